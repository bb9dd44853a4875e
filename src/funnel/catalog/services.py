"""Catalogue use cases: the only code that writes categories, products, variants and images.

Every function runs in ``with transaction():`` (joining the caller's when there is one) and
keeps each product's denormalised columns in step: ``search_document`` (title, description and
SKUs, indexed for full-text search) and ``min_price_amount``/``currency`` (price sort and
filter).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import IO, Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from funnel.catalog import images as image_files
from funnel.catalog.errors import (
    CategoryCycle,
    CategoryNotEmpty,
    CategoryNotFound,
    DuplicateSku,
    InvalidCatalogInput,
    InvalidPrice,
    InvalidSku,
    InvalidStock,
    ProductHasNoVariants,
    ProductNotFound,
    SlugTaken,
    VariantNotFound,
)
from funnel.catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductStatus,
    Variant,
    VariantOptionValue,
)
from funnel.core.database import transaction
from funnel.core.money import Money, MoneyError
from funnel.extensions import db

SKU_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,63}$")
MAX_PRICE_AMOUNT = 10**12
MAX_STOCK = 10**9
_UNSET: Any = object()


# -- helpers -------------------------------------------------------------------------------


def slugify(text: str, max_length: int = 120) -> str:
    """ASCII, lower-case, hyphenated: ``"Café & Bar"`` -> ``"cafe-bar"`` (``"item"`` if empty)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:max_length].strip("-")
    return slug or "item"


def _unique_slug(model: type[Category] | type[Product], base: str, own_id: int | None) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever no other row uses."""
    taken = set(
        db.session.scalars(
            select(model.slug).where(
                (model.slug == base) | model.slug.like(f"{base}-%"),
                model.id != (own_id or 0),
            )
        )
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _required_text(field: str, value: str, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidCatalogInput(fields={field: ["This field is required."]})
    if len(value) > max_length:
        raise InvalidCatalogInput(fields={field: [f"At most {max_length} characters."]})
    return value


def _optional_text(field: str, value: str | None, max_length: int | None) -> str:
    value = (value or "").strip()
    if max_length is not None and len(value) > max_length:
        raise InvalidCatalogInput(fields={field: [f"At most {max_length} characters."]})
    return value


def _flush(conflict: type[Exception], detail: str) -> None:
    """Flush now so that a unique violation surfaces as a domain error (a race lost)."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        raise conflict(detail) from error


def _get_category(category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None:
        raise CategoryNotFound()
    return category


def _get_product(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise ProductNotFound()
    return product


def shop_currency() -> str:
    return current_app.config["CURRENCY"]


def parse_price(text: str) -> Money:
    """A price typed by staff in major units (``"12.50"``) as Money in the shop currency.

    Raises InvalidPrice for text that is not an amount, has too many decimals, or is negative.
    """
    try:
        price = Money.parse(text, shop_currency())
    except MoneyError as error:
        raise InvalidPrice(str(error), fields={"price": [str(error)]}) from error
    return _checked_price(price)


def _checked_price(price: Money) -> Money:
    if not isinstance(price, Money):
        raise InvalidPrice("A price must be Money.")
    if price.currency != shop_currency():
        raise InvalidPrice(
            f"Prices are in {shop_currency()}, not {price.currency}.",
            fields={"price": [f"Prices are in {shop_currency()}."]},
        )
    if not 0 <= price.amount <= MAX_PRICE_AMOUNT:
        raise InvalidPrice("A price cannot be negative.", fields={"price": ["Must be 0 or more."]})
    return price


def _checked_stock(stock_quantity: int) -> int:
    if isinstance(stock_quantity, bool) or not isinstance(stock_quantity, int):
        raise InvalidStock(fields={"stock_quantity": ["Must be a whole number."]})
    if not 0 <= stock_quantity <= MAX_STOCK:
        raise InvalidStock(
            "Stock cannot be negative.", fields={"stock_quantity": ["Must be 0 or more."]}
        )
    return stock_quantity


def normalise_sku(sku: str) -> str:
    """Raises InvalidSku unless ``sku`` is 1-64 letters, digits, ``.``, ``_`` or ``-``."""
    normalised = (sku or "").strip().upper()
    if not SKU_PATTERN.match(normalised):
        raise InvalidSku(
            f"{sku[:70]!r} is not a valid SKU.",
            fields={"sku": ["Use 1 to 64 letters, digits, dots, dashes or underscores."]},
        )
    return normalised


def normalise_options(options: Mapping[str, str] | None) -> list[tuple[str, str]]:
    """Option names capitalised (``"size"`` -> ``"Size"``), values trimmed, empties refused."""
    normalised: list[tuple[str, str]] = []
    seen: set[str] = set()
    for raw_name, raw_value in (options or {}).items():
        name = _required_text("option name", raw_name, 50).capitalize()
        value = _required_text(f"{name} value", raw_value, 100)
        if name in seen:
            raise InvalidCatalogInput(fields={"options": [f"{name} is given twice."]})
        seen.add(name)
        normalised.append((name, value))
    return normalised


def build_search_document(title: str, description: str, skus: list[str]) -> str:
    """The text full-text search indexes for a product: title, description and SKUs.

    Each SKU is also written with its separators as spaces (``TSH-001-M`` -> ``TSH 001 M``):
    PostgreSQL's parser reads ``-001`` as a negative number, so without the split form a
    search for ``TSH-001`` would not find ``TSH-001-M`` there.
    """
    split_skus = [re.sub(r"[^0-9A-Za-z]+", " ", sku).strip() for sku in skus]
    return "\n".join([title, description, " ".join(skus), " ".join(split_skus)])


def refresh_product(product: Product) -> None:
    """Recompute ``search_document``, ``min_price_amount`` and ``currency`` from the variants."""
    variants = db.session.scalars(
        select(Variant).where(Variant.product_id == product.id).order_by(Variant.id)
    ).all()
    product.search_document = build_search_document(
        product.title, product.description, [variant.sku for variant in variants]
    )
    if variants:
        product.min_price_amount = min(variant.price_amount for variant in variants)
        product.currency = variants[0].currency
    else:
        product.min_price_amount = 0
        product.currency = shop_currency()


# -- categories ----------------------------------------------------------------------------


def create_category(
    name: str, *, parent_id: int | None = None, description: str = "", position: int = 0
) -> Category:
    """Create a category; its slug comes from the name (``-2``, ``-3``... when taken).

    Raises InvalidCatalogInput (blank or too long name), CategoryNotFound (unknown parent),
    SlugTaken (a concurrent writer took the slug).
    """
    with transaction():
        name = _required_text("name", name, 120)
        if parent_id is not None:
            _get_category(parent_id)
        category = Category(
            name=name,
            slug=_unique_slug(Category, slugify(name), None),
            parent_id=parent_id,
            description=_optional_text("description", description, None),
            position=position,
        )
        db.session.add(category)
        _flush(SlugTaken, "A category with this address was created at the same time.")
        return category


def update_category(
    category_id: int,
    *,
    name: str | None = None,
    parent_id: int | None = _UNSET,
    description: str | None = None,
    position: int | None = None,
) -> Category:
    """Rename, move (``parent_id``; None for top level), describe or reorder a category.

    Renaming changes the slug too. Raises CategoryNotFound, CategoryCycle (moving a category
    under itself or one of its descendants), InvalidCatalogInput, SlugTaken.
    """
    with transaction():
        category = _get_category(category_id)
        if name is not None:
            category.name = _required_text("name", name, 120)
            category.slug = _unique_slug(Category, slugify(category.name), category.id)
        if parent_id is not _UNSET:
            if parent_id is not None:
                _get_category(parent_id)
                ancestor_id: int | None = parent_id
                parents = dict(db.session.execute(select(Category.id, Category.parent_id)).all())
                while ancestor_id is not None:
                    if ancestor_id == category.id:
                        raise CategoryCycle()
                    ancestor_id = parents.get(ancestor_id)
            category.parent_id = parent_id
        if description is not None:
            category.description = _optional_text("description", description, None)
        if position is not None:
            category.position = position
        _flush(SlugTaken, "A category with this address was created at the same time.")
        return category


def delete_category(category_id: int) -> None:
    """Delete an empty category. Raises CategoryNotFound, CategoryNotEmpty."""
    with transaction():
        category = _get_category(category_id)
        has_children = db.session.scalar(
            select(Category.id).where(Category.parent_id == category.id).limit(1)
        )
        has_products = db.session.scalar(
            select(Product.id).where(Product.category_id == category.id).limit(1)
        )
        if has_children is not None or has_products is not None:
            raise CategoryNotEmpty()
        db.session.delete(category)


# -- products ------------------------------------------------------------------------------


def create_product(
    title: str,
    *,
    category_id: int,
    description: str = "",
    seo_title: str = "",
    seo_description: str = "",
    is_featured: bool = False,
) -> Product:
    """Create a draft product (it needs a variant before it can be made active).

    Raises InvalidCatalogInput, CategoryNotFound, SlugTaken (concurrent writer).
    Side effects: the product enters the search index (with no SKUs yet).
    """
    with transaction():
        title = _required_text("title", title, 200)
        _get_category(category_id)
        description = _optional_text("description", description, None)
        product = Product(
            title=title,
            slug=_unique_slug(Product, slugify(title, 200), None),
            category_id=category_id,
            description=description,
            status=ProductStatus.DRAFT,
            seo_title=_optional_text("seo_title", seo_title, 200),
            seo_description=_optional_text("seo_description", seo_description, 320),
            is_featured=is_featured,
            min_price_amount=0,
            currency=shop_currency(),
            search_document=build_search_document(title, description, []),
        )
        db.session.add(product)
        _flush(SlugTaken, "A product with this address was created at the same time.")
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
    status: ProductStatus | None = None,
) -> Product:
    """Change a product's fields; a new title gives a new slug.

    Raises ProductNotFound, CategoryNotFound, InvalidCatalogInput (also for an unknown status),
    ProductHasNoVariants (making active a product without variants), SlugTaken.
    Side effects: keeps the search document in step.
    """
    with transaction():
        product = _get_product(product_id)
        if title is not None:
            product.title = _required_text("title", title, 200)
            product.slug = _unique_slug(Product, slugify(product.title, 200), product.id)
        if category_id is not None:
            _get_category(category_id)
            product.category_id = category_id
        if description is not None:
            product.description = _optional_text("description", description, None)
        if seo_title is not None:
            product.seo_title = _optional_text("seo_title", seo_title, 200)
        if seo_description is not None:
            product.seo_description = _optional_text("seo_description", seo_description, 320)
        if is_featured is not None:
            product.is_featured = is_featured
        if status is not None:
            try:
                status = ProductStatus(status)
            except ValueError as error:
                raise InvalidCatalogInput(
                    fields={"status": ["Choose draft, active or archived."]}
                ) from error
            if status is ProductStatus.ACTIVE:
                has_variant = db.session.scalar(
                    select(Variant.id).where(Variant.product_id == product.id).limit(1)
                )
                if has_variant is None:
                    raise ProductHasNoVariants()
            product.status = status
        refresh_product(product)
        _flush(SlugTaken, "A product with this address was created at the same time.")
        return product


def publish_product(product_id: int) -> Product:
    """Make a product visible to customers. Raises ProductNotFound, ProductHasNoVariants."""
    return update_product(product_id, status=ProductStatus.ACTIVE)


def archive_product(product_id: int) -> Product:
    """Hide a product from customers for good (its page answers 404). Raises ProductNotFound."""
    return update_product(product_id, status=ProductStatus.ARCHIVED)


# -- variants ------------------------------------------------------------------------------


def _ensure_sku_free(sku: str, own_id: int | None) -> None:
    other = db.session.scalar(select(Variant.id).where(Variant.sku == sku))
    if other is not None and other != own_id:
        raise DuplicateSku(
            f"The SKU {sku} is already used.", fields={"sku": ["This SKU is already used."]}
        )


def _set_options(variant: Variant, options: list[tuple[str, str]]) -> None:
    for existing in db.session.scalars(
        select(VariantOptionValue).where(VariantOptionValue.variant_id == variant.id)
    ):
        db.session.delete(existing)
    db.session.flush()
    for position, (name, value) in enumerate(options):
        db.session.add(
            VariantOptionValue(variant_id=variant.id, name=name, value=value, position=position)
        )


def add_variant(
    product_id: int,
    *,
    sku: str,
    price: Money,
    stock_quantity: int = 0,
    title: str = "",
    options: Mapping[str, str] | None = None,
    position: int | None = None,
) -> Variant:
    """Add a variant (SKU unique across the shop, price in the shop currency, stock >= 0).

    Raises ProductNotFound, InvalidSku, DuplicateSku, InvalidPrice, InvalidStock,
    InvalidCatalogInput (options). Side effects: refreshes the product's price and search text.
    """
    with transaction():
        product = _get_product(product_id)
        sku = normalise_sku(sku)
        price = _checked_price(price)
        stock_quantity = _checked_stock(stock_quantity)
        option_values = normalise_options(options)
        _ensure_sku_free(sku, None)
        if position is None:
            position = len(
                db.session.scalars(select(Variant.id).where(Variant.product_id == product.id)).all()
            )
        variant = Variant(
            product_id=product.id,
            sku=sku,
            title=_optional_text("title", title, 200),
            price_amount=price.amount,
            currency=price.currency,
            stock_quantity=stock_quantity,
            position=position,
        )
        db.session.add(variant)
        _flush(DuplicateSku, f"The SKU {sku} is already used.")
        _set_options(variant, option_values)
        refresh_product(product)
        return variant


def update_variant(
    variant_id: int,
    *,
    sku: str | None = None,
    price: Money | None = None,
    stock_quantity: int | None = None,
    title: str | None = None,
    options: Mapping[str, str] | None = None,
) -> Variant:
    """Change a variant; ``options`` replaces all its option values.

    Raises VariantNotFound, InvalidSku, DuplicateSku, InvalidPrice, InvalidStock,
    InvalidCatalogInput. Side effects: refreshes the product's price and search text.
    """
    with transaction():
        variant = db.session.get(Variant, variant_id)
        if variant is None:
            raise VariantNotFound()
        if sku is not None:
            variant.sku = normalise_sku(sku)
            _ensure_sku_free(variant.sku, variant.id)
        if price is not None:
            price = _checked_price(price)
            variant.price_amount = price.amount
            variant.currency = price.currency
        if stock_quantity is not None:
            variant.stock_quantity = _checked_stock(stock_quantity)
        if title is not None:
            variant.title = _optional_text("title", title, 200)
        if options is not None:
            _set_options(variant, normalise_options(options))
        _flush(DuplicateSku, f"The SKU {variant.sku} is already used.")
        refresh_product(_get_product(variant.product_id))
        return variant


# -- images --------------------------------------------------------------------------------


def add_product_image(product_id: int, data: bytes | IO[bytes], *, alt_text: str) -> ProductImage:
    """Store an uploaded image (JPEG, PNG or WebP, at most 10 MB) with 400/800 px thumbnails.

    Raises ProductNotFound, InvalidImage (not an image, unsupported format, too large),
    InvalidCatalogInput (alt text missing or too long).
    Side effects: writes files under MEDIA_ROOT; removes them again if the transaction fails.
    """
    if not isinstance(data, bytes):
        data = data.read(image_files.MAX_IMAGE_BYTES + 1)
    with transaction():
        product = _get_product(product_id)
        alt_text = _required_text("alt_text", alt_text, 300)
        stored = image_files.store_product_image(current_app.config["MEDIA_ROOT"], product.id, data)
        try:
            position = len(
                db.session.scalars(
                    select(ProductImage.id).where(ProductImage.product_id == product.id)
                ).all()
            )
            image = ProductImage(
                product_id=product.id,
                filename=stored.filename,
                alt_text=alt_text,
                position=position,
                width=stored.width,
                height=stored.height,
            )
            db.session.add(image)
            db.session.flush()
        except BaseException:
            image_files.remove_files(stored.files)
            raise
        return image
