"""Catalogue reads for the storefront, each in a fixed number of statements.

The category tree is read whole in one statement and walked in Python (``tree``).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from funnel.accounts.queries import default_shipping_country
from funnel.catalog.cards import ProductCard, card_select, load_cards
from funnel.catalog.errors import (
    CategoryNotFound,
    InvalidListingParameters,
    ProductNotFound,
    VariantNotFound,
)
from funnel.catalog.listing import Listing, ListingFilters, ListingSort, run_listing
from funnel.catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductStatus,
    Variant,
    VariantOptionValue,
)
from funnel.catalog.pricing import PriceDisplay, price_display
from funnel.catalog.tree import CategoryNode, CategoryTree
from funnel.catalog.versions import CatalogueCache
from funnel.core.pagination import Page, paginate
from funnel.extensions import db
from funnel.settings.queries import current_settings

STAFF_PRODUCTS_PER_PAGE = 50
STAFF_SEARCH_MAX_LENGTH = 100


def price_display_for(user_id: int | None) -> PriceDisplay:
    """How prices are shown to this shopper: the country of their default shipping address
    when they are signed in and have one, else the shop's own country (see catalog.pricing)."""
    country = default_shipping_country(user_id) if user_id is not None else None
    return price_display(current_settings(), country)


# The statements every storefront page runs, built once: a reused statement keeps its SQL
# cache key, which SQLAlchemy otherwise computes again for each new one.
_CATEGORY_TREE = select(
    Category.id,
    Category.parent_id,
    Category.name,
    Category.slug,
    Category.description,
    Category.position,
).order_by(Category.position, Category.name, Category.id)
_ACTIVE_PRODUCT = select(Product).where(
    Product.slug == bindparam("slug"), Product.status == ProductStatus.ACTIVE
)
_VARIANTS = (
    select(Variant)
    .where(Variant.product_id == bindparam("product_id"))
    .order_by(Variant.position, Variant.id)
)
_OPTION_VALUES = (
    select(VariantOptionValue)
    .where(VariantOptionValue.variant_id.in_(bindparam("variant_ids", expanding=True)))
    .order_by(VariantOptionValue.position, VariantOptionValue.id)
)
_IMAGES = (
    select(ProductImage)
    .where(ProductImage.product_id == bindparam("product_id"))
    .order_by(ProductImage.position, ProductImage.id)
)


# The HTML of listings (a category's results, a search's answer, the home page's products)
# per worker: at most this many, about 30 kB each.
RENDERED_LISTINGS = CatalogueCache(size=64)


def rendered_for_catalogue(key: Hashable, render: Callable[[], str]) -> str:
    """``render()``'s HTML, kept under ``key`` and the catalogue's version: rendered again on
    the first request after any catalogue change (one primary-key read on every call)."""
    return RENDERED_LISTINGS.get_or_compute(db.session, key, render)


def category_tree() -> CategoryTree:
    """Every category, in display order (position, then name), in one statement."""
    return CategoryTree([CategoryNode(*row) for row in db.session.execute(_CATEGORY_TREE)])


# The category tree per worker, under the catalogue version: every storefront page reads it.
CATEGORY_TREES = CatalogueCache(size=4)


def kept_category_tree() -> CategoryTree:
    """``category_tree()``, kept until the catalogue changes (a category is catalogue
    content): one tree shared by every request of the worker, so its callers only read it."""
    return CATEGORY_TREES.get_or_compute(db.session, "category tree", category_tree)


def category_by_slug(tree: CategoryTree, slug: str) -> CategoryNode:
    """Raises CategoryNotFound."""
    category = tree.by_slug.get(slug)
    if category is None:
        raise CategoryNotFound(f"There is no category at {slug[:100]!r}.")
    return category


def featured_products(limit: int) -> list[ProductCard]:
    return load_cards(db.session, _cards_statement(limit, featured=True))


def newest_products(limit: int) -> list[ProductCard]:
    return load_cards(db.session, _cards_statement(limit, featured=False))


@functools.cache
def _cards_statement(limit: int, *, featured: bool) -> Select[Any]:
    """Built once per limit (the home page's): a reused statement keeps its cache key."""
    conditions = [Product.status == ProductStatus.ACTIVE]
    if featured:
        conditions.append(Product.is_featured.is_(True))
    newest_first = (Product.created_at.desc(), Product.id.desc())
    return card_select().where(*conditions).order_by(*newest_first).limit(limit)


def category_listing(
    tree: CategoryTree,
    category: CategoryNode,
    filters: ListingFilters,
    sort: ListingSort,
    number: int,
    size: int,
) -> Listing:
    """Active products of ``category`` and its descendants, filtered, sorted, one page."""
    category_ids = tree.descendant_ids(category)
    return run_listing(
        db.session,
        conditions=[],
        categories=category_ids,
        filters=filters,
        sort=sort,
        number=number,
        size=size,
        scope=("categories", tuple(category_ids)),
    )


def product_listing(
    filters: ListingFilters,
    sort: ListingSort,
    number: int,
    size: int,
    *,
    category_ids: Sequence[int] | None = None,
    with_facets: bool = True,
) -> Listing:
    """Active products (of ``category_ids`` when given), filtered, sorted, one page (with the
    facet counts unless ``with_facets`` is False)."""
    return run_listing(
        db.session,
        conditions=[],
        categories=category_ids,
        filters=filters,
        sort=sort,
        number=number,
        size=size,
        with_facets=with_facets,
        scope=("categories", None if category_ids is None else tuple(category_ids)),
    )


def active_product_by_slug(slug: str) -> Product:
    """An active product with its variants, their option values and its images loaded.

    Raises ProductNotFound for unknown slugs and for draft or archived products.
    """
    if "\x00" in slug:  # no slug has one, and PostgreSQL refuses NUL in text parameters
        raise ProductNotFound("This product does not exist or is no longer sold.")
    product = db.session.scalars(_ACTIVE_PRODUCT, {"slug": slug[:220]}).one_or_none()
    if product is None:
        raise ProductNotFound("This product does not exist or is no longer sold.")
    _load_product_page(product)
    return product


def _load_product_page(product: Product) -> None:
    """Its variants (their option values) and images, in selectinload's statements and order,
    set as loaded: selectinload's machinery cost three times the reads (most of the page)."""
    variants = list(db.session.scalars(_VARIANTS, {"product_id": product.id}))
    values: dict[int, list[VariantOptionValue]] = {variant.id: [] for variant in variants}
    if variants:  # as selectinload: no statement for the options of no variant
        for value in db.session.scalars(_OPTION_VALUES, {"variant_ids": list(values)}):
            values[value.variant_id].append(value)
    for variant in variants:
        set_committed_value(variant, "option_values", values[variant.id])
    set_committed_value(product, "variants", variants)
    images = list(db.session.scalars(_IMAGES, {"product_id": product.id}))
    set_committed_value(product, "images", images)


def product_count() -> int:
    return db.session.scalar(select(func.count(Product.id))) or 0


def product_by_id(product_id: int) -> Product | None:
    return db.session.get(Product, product_id)


def product_titles(product_ids: Sequence[int]) -> dict[int, str]:
    """The titles of the products among ``product_ids`` that still exist (a report names the
    products it counted). One query per 900 ids (under every database's parameter limit)."""
    wanted = sorted(set(product_ids))
    titles: dict[int, str] = {}
    for first in range(0, len(wanted), 900):
        chunk = wanted[first : first + 900]
        rows = db.session.execute(select(Product.id, Product.title).where(Product.id.in_(chunk)))
        titles.update({int(product_id): title for product_id, title in rows.tuples()})
    return titles


def product_for_staff(product_id: int) -> Product:
    """A product in any status with its variants (and their option values) and its images
    loaded (fresh from the database). Raises ProductNotFound."""
    product = db.session.scalars(
        select(Product)
        .where(Product.id == product_id)
        .options(
            selectinload(Product.variants).selectinload(Variant.option_values),
            selectinload(Product.images),
        )
        .execution_options(populate_existing=True)
    ).one_or_none()
    if product is None:
        raise ProductNotFound()
    return product


def variant_for_staff(variant_id: int) -> Variant:
    """A variant with its option values loaded. Raises VariantNotFound."""
    variant = db.session.scalars(
        select(Variant)
        .where(Variant.id == variant_id)
        .options(selectinload(Variant.option_values))
        .execution_options(populate_existing=True)
    ).one_or_none()
    if variant is None:
        raise VariantNotFound()
    return variant


# -- the staff product list ----------------------------------------------------------------


class StaffProductSort(enum.StrEnum):
    TITLE = "title"
    NEWEST = "newest"
    PRICE = "price"


@dataclass(frozen=True)
class StaffProductFilters:
    search: str = ""
    status: ProductStatus | None = None
    category_id: int | None = None
    sort: StaffProductSort = StaffProductSort.NEWEST


def parse_staff_product_filters(
    *, search: str | None, status: str | None, category: str | None, sort: str | None
) -> StaffProductFilters:
    """The staff product list's filters from its query string (blank: no filter).

    Raises InvalidListingParameters (422) for an unknown status, sort or category.
    """
    fields: dict[str, list[str]] = {}
    parsed_status = None
    if status:
        try:
            parsed_status = ProductStatus(status)
        except ValueError:
            fields["status"] = ["Choose draft, active or archived."]
    parsed_sort = StaffProductSort.NEWEST
    if sort:
        try:
            parsed_sort = StaffProductSort(sort)
        except ValueError:
            fields["sort"] = ["Sort by title, newest or price."]
    category_id = None
    if category:
        if category.isascii() and category.isdigit() and len(category) <= 9:
            category_id = int(category)
        if category_id is None or db.session.get(Category, category_id) is None:
            fields["category"] = ["Choose a category from the list."]
    if fields:
        raise InvalidListingParameters(fields=fields)
    return StaffProductFilters(
        search=(search or "").strip()[:STAFF_SEARCH_MAX_LENGTH],
        status=parsed_status,
        category_id=category_id,
        sort=parsed_sort,
    )


_STAFF_ORDER = {
    StaffProductSort.TITLE: (Product.title, Product.id),
    StaffProductSort.NEWEST: (Product.created_at.desc(), Product.id.desc()),
    StaffProductSort.PRICE: (Product.min_price_amount, Product.id),
}


def staff_product_page(
    filters: StaffProductFilters, number: int, size: int = STAFF_PRODUCTS_PER_PAGE
) -> Page[Product]:
    """Products in any status, filtered and sorted, one page, with their category and
    variants loaded. The search finds a title containing it (any letter case) or a SKU."""
    statement = select(Product)
    if filters.search:
        sku_matches = select(Variant.product_id).where(
            Variant.sku.contains(filters.search.upper(), autoescape=True)
        )
        statement = statement.where(
            func.lower(Product.title).contains(filters.search.lower(), autoescape=True)
            | Product.id.in_(sku_matches)
        )
    if filters.status is not None:
        statement = statement.where(Product.status == filters.status)
    if filters.category_id is not None:
        statement = statement.where(Product.category_id == filters.category_id)
    statement = statement.order_by(*_STAFF_ORDER[filters.sort])
    return paginate(
        db.session,
        statement,
        number,
        size,
        options=(selectinload(Product.category), selectinload(Product.variants)),
    )


def product_images_for_staff(product_id: int) -> tuple[Product, list[ProductImage]]:
    """A product in any status and its images in display order. Raises ProductNotFound."""
    product = db.session.get(Product, product_id)
    if product is None:
        raise ProductNotFound()
    images = db.session.scalars(
        select(ProductImage)
        .where(ProductImage.product_id == product_id)
        .order_by(ProductImage.position, ProductImage.id)
    )
    return product, list(images)
