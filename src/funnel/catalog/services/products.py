"""Product use cases (create, update, publish, archive)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from funnel.audit import services as audit
from funnel.catalog.errors import (
    ProductHasNoVariants,
    SlugTaken,
)
from funnel.catalog.models import (
    Product,
    ProductStatus,
    Variant,
)
from funnel.catalog.services.auditing import (
    product_fields,
    record_changed,
    record_created,
    variant_fields,
)
from funnel.catalog.services.rules import (
    PRODUCT_TITLE_LENGTH,
    SEO_DESCRIPTION_LENGTH,
    SEO_TITLE_LENGTH,
    _flush,
    _get_category,
    _get_product,
    _optional_text,
    _required_text,
    _unique_slug,
    build_search_document,
    check_may_manage_catalog,
    parse_status,
    refresh_product,
    shop_currency,
    slugify,
)
from funnel.catalog.services.variants import add_variant
from funnel.catalog.services.vocabulary import remember_words
from funnel.core.database import transaction
from funnel.core.money import Money
from funnel.extensions import db

# -- products ------------------------------------------------------------------------------


def create_product(
    title: str,
    *,
    category_id: int,
    description: str = "",
    seo_title: str = "",
    seo_description: str = "",
    is_featured: bool = False,
    actor_user_id: int | None = None,
) -> Product:
    """Create a draft product (it needs a variant before it can be made active).

    ``actor_user_id`` is the staff member acting (None: the system). Raises PermissionDenied,
    InvalidCatalogInput, CategoryNotFound, SlugTaken (concurrent writer).
    Side effects: the product enters the search index (with no SKUs yet).
    """
    with transaction():
        check_may_manage_catalog(actor_user_id)
        title = _required_text("title", title, PRODUCT_TITLE_LENGTH)
        _get_category(category_id)
        description = _optional_text("description", description, None)
        product = Product(
            title=title,
            slug=_unique_slug(Product, slugify(title, PRODUCT_TITLE_LENGTH), None),
            category_id=category_id,
            description=description,
            status=ProductStatus.DRAFT,
            seo_title=_optional_text("seo_title", seo_title, SEO_TITLE_LENGTH),
            seo_description=_optional_text(
                "seo_description", seo_description, SEO_DESCRIPTION_LENGTH
            ),
            is_featured=is_featured,
            min_price_amount=0,
            currency=shop_currency(),
            search_document=build_search_document(title, description, []),
        )
        db.session.add(product)
        _flush(SlugTaken, "A product with this address was created at the same time.")
        record_created("product", product.id, product.title, product_fields(product), actor_user_id)
        remember_words([title, description])
        return product


def update_product(
    product_id: int,
    *,
    title: str | None = None,
    category_id: int | None = None,
    description: str | None = None,
    seo_title: str | None = None,
    seo_description: str | None = None,
    is_featured: bool | None = None,
    status: ProductStatus | str | None = None,
    actor_user_id: int | None = None,
) -> Product:
    """Change a product's fields; a new title gives a new slug.

    ``actor_user_id`` is the staff member acting (None: the system). Raises PermissionDenied,
    ProductNotFound, CategoryNotFound, InvalidCatalogInput (also for an unknown status),
    ProductHasNoVariants (making active a product without variants), SlugTaken.
    Side effects: keeps the search document in step.
    """
    with transaction():
        check_may_manage_catalog(actor_user_id)
        product = _get_product(product_id)
        before = product_fields(product)
        if title is not None:
            product.title = _required_text("title", title, PRODUCT_TITLE_LENGTH)
            product.slug = _unique_slug(
                Product, slugify(product.title, PRODUCT_TITLE_LENGTH), product.id
            )
        if category_id is not None:
            _get_category(category_id)
            product.category_id = category_id
        if description is not None:
            product.description = _optional_text("description", description, None)
        if seo_title is not None:
            product.seo_title = _optional_text("seo_title", seo_title, SEO_TITLE_LENGTH)
        if seo_description is not None:
            product.seo_description = _optional_text(
                "seo_description", seo_description, SEO_DESCRIPTION_LENGTH
            )
        if is_featured is not None:
            product.is_featured = is_featured
        if status is not None:
            status = parse_status(status)
            if status is ProductStatus.ACTIVE:
                has_variant = db.session.scalar(
                    select(Variant.id).where(Variant.product_id == product.id).limit(1)
                )
                if has_variant is None:
                    raise ProductHasNoVariants()
            product.status = status
        refresh_product(product)
        _flush(SlugTaken, "A product with this address was created at the same time.")
        record_changed(
            "product", product.id, product.title, before, product_fields(product), actor_user_id
        )
        return product


def publish_product(product_id: int, *, actor_user_id: int | None = None) -> Product:
    """Make a product visible to customers. Raises PermissionDenied, ProductNotFound,
    ProductHasNoVariants."""
    return update_product(product_id, status=ProductStatus.ACTIVE, actor_user_id=actor_user_id)


def archive_product(product_id: int, *, actor_user_id: int | None = None) -> Product:
    """Hide a product from customers for good (its page answers 404). Raises PermissionDenied,
    ProductNotFound."""
    return update_product(product_id, status=ProductStatus.ARCHIVED, actor_user_id=actor_user_id)


@dataclass(frozen=True)
class NewVariant:
    """A variant to create with its product (its stock starts at zero)."""

    sku: str
    price: Money
    title: str = ""
    options: Mapping[str, str] = field(default_factory=dict)


def create_product_with_variants(
    title: str,
    *,
    category_id: int,
    variants: Sequence[NewVariant] = (),
    description: str = "",
    seo_title: str = "",
    seo_description: str = "",
    is_featured: bool = False,
    publish: bool = False,
    status: ProductStatus | str = ProductStatus.DRAFT,
    actor_user_id: int | None = None,
) -> Product:
    """Create a product and its variants in one transaction, with ``status`` (``publish``:
    active).

    Variants start with no stock: units enter through the inventory ledger (``received``), so
    that every unit the shop holds has a movement saying why. Nothing is created when any
    part is refused. Raises the errors of ``create_product`` and ``add_variant``, and
    ProductHasNoVariants (active without variants).
    """
    with transaction():
        with audit.single_entry():
            product = _create_with_variants(
                title,
                category_id=category_id,
                variants=variants,
                description=description,
                seo_title=seo_title,
                seo_description=seo_description,
                is_featured=is_featured,
                status=ProductStatus.ACTIVE if publish else status,
                actor_user_id=actor_user_id,
            )
        fields = product_fields(product)
        fields["variants"] = [
            {key: value for key, value in variant_fields(variant).items() if key != "product_id"}
            for variant in db.session.scalars(
                select(Variant).where(Variant.product_id == product.id).order_by(Variant.position)
            )
        ]
        record_created("product", product.id, product.title, fields, actor_user_id)
        return product


def _create_with_variants(
    title: str,
    *,
    category_id: int,
    variants: Sequence[NewVariant],
    description: str,
    seo_title: str,
    seo_description: str,
    is_featured: bool,
    status: ProductStatus | str,
    actor_user_id: int | None,
) -> Product:
    with transaction():
        product = create_product(
            title,
            category_id=category_id,
            description=description,
            seo_title=seo_title,
            seo_description=seo_description,
            is_featured=is_featured,
            actor_user_id=actor_user_id,
        )
        for variant in variants:
            add_variant(
                product.id,
                sku=variant.sku,
                price=variant.price,
                title=variant.title,
                options=variant.options,
                actor_user_id=actor_user_id,
            )
        if status != ProductStatus.DRAFT:
            update_product(product.id, status=status, actor_user_id=actor_user_id)
        return product
