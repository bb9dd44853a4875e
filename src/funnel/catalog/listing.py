"""Product listings shared by category pages and search: filters, sort orders and facets.

A listing is a set of conditions on active products (a category subtree, a search match), plus
the visitor's filters (price range on the denormalised ``min_price_amount``; option values,
matched on one variant), a sort with the id as tie-break (stable paging), and facet counts
computed in SQL. The number of statements depends on the query string only, never on how many
products match: one read of the catalogue version, one COUNT and ``2 + selected option names``
for the facets (unless this worker already counted them at that version: ``LISTING_CACHE``, as
the counts are most of a listing's time on a large catalogue), one page of product cards, one
for their images (``cards``).
"""

from __future__ import annotations

import enum
from array import array
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, distinct, exists, func, select
from sqlalchemy.orm import Session, aliased

from funnel.catalog.cards import ProductCard, card_select, load_cards
from funnel.catalog.models import Product, ProductStatus, Variant, VariantOptionValue
from funnel.catalog.paging import MAX_MERGED, kept_order_page, merged_page
from funnel.catalog.values import CATALOGUE_ORDERED_OPTIONS, catalogue_order, value_key
from funnel.catalog.versions import CatalogueCache
from funnel.core.pagination import Page, count_rows, paginate


class ListingSort(enum.StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    PRICE_LOW_HIGH = "price-asc"
    PRICE_HIGH_LOW = "price-desc"
    NAME = "name"

    @property
    def label(self) -> str:
        return _SORT_LABELS[self]


_SORT_LABELS = {
    ListingSort.RELEVANCE: "Relevance",
    ListingSort.NEWEST: "Newest",
    ListingSort.PRICE_LOW_HIGH: "Price: low to high",
    ListingSort.PRICE_HIGH_LOW: "Price: high to low",
    ListingSort.NAME: "Name",
}


def option_key(name: str) -> str:
    """The query-string parameter of an option name: ``"Size"`` -> ``"size"``."""
    return name.lower()


def option_name(key: str) -> str:
    """The stored option name of a query-string parameter: ``"size"`` -> ``"Size"``."""
    return key.strip().capitalize()


@dataclass(frozen=True)
class ListingFilters:
    """What the visitor narrowed the listing to. Prices are minor units, bounds included;
    ``notes`` say which asked-for filters were left out (a bad price), for the page to show."""

    min_price: int | None = None
    max_price: int | None = None
    options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def is_selected(self, name: str, value: str) -> bool:
        return value in self.options.get(name, ())

    @property
    def is_empty(self) -> bool:
        return self.min_price is None and self.max_price is None and not self.options


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    is_selected: bool


@dataclass(frozen=True)
class Facet:
    name: str
    values: list[FacetValue]

    @property
    def key(self) -> str:
        return option_key(self.name)


@dataclass(frozen=True)
class Listing:
    page: Page[ProductCard]
    facets: list[Facet]
    sort: ListingSort
    filters: ListingFilters


def _variant_has_options(
    variant_id: Any, options: Mapping[str, tuple[str, ...]]
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for name, values in options.items():
        # An alias per option: the facet query selects from the same table, and an unaliased
        # subquery would correlate with it instead of looking at the variant's other rows.
        option = aliased(VariantOptionValue)
        conditions.append(
            exists().where(
                option.variant_id == variant_id, option.name == name, option.value.in_(values)
            )
        )
    return conditions


def _price_conditions(filters: ListingFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.min_price is not None:
        conditions.append(Product.min_price_amount >= filters.min_price)
    if filters.max_price is not None:
        conditions.append(Product.min_price_amount <= filters.max_price)
    return conditions


def _option_condition(options: Mapping[str, tuple[str, ...]]) -> list[ColumnElement[bool]]:
    if not options:
        return []
    return [
        exists().where(Variant.product_id == Product.id, *_variant_has_options(Variant.id, options))
    ]


def _order(sort: ListingSort, rank: Any | None) -> list[Any]:
    if sort is ListingSort.RELEVANCE and rank is not None:
        return [rank.desc(), Product.id.asc()]
    if sort is ListingSort.PRICE_LOW_HIGH:
        return [Product.min_price_amount.asc(), Product.id.asc()]
    if sort is ListingSort.PRICE_HIGH_LOW:
        return [Product.min_price_amount.desc(), Product.id.desc()]
    if sort is ListingSort.NAME:
        return [Product.title.asc(), Product.id.asc()]
    return [Product.created_at.desc(), Product.id.desc()]


def run_listing(
    session: Session,
    *,
    conditions: Sequence[ColumnElement[bool]],
    filters: ListingFilters,
    sort: ListingSort,
    number: int,
    size: int,
    ranked: Subquery | None = None,
    with_facets: bool = True,
    scope: Hashable | None = None,
    categories: Sequence[int] | None = None,
) -> Listing:
    """One page of the active products meeting ``conditions`` and ``filters``, with facets.

    ``ranked`` is an optional subquery of (product_id, rank) that both restricts the listing
    to its products and gives the relevance order (search). ``with_facets=False`` skips the
    facet counts (most of a listing's time on a large catalogue) for callers that show none.
    ``scope`` names what ``conditions`` and ``ranked`` select (e.g. the category ids), for the
    count and the facet counts to be kept under it and the catalogue version (``LISTING_CACHE``);
    None: counted every time. ``categories`` restricts the listing to those categories (a
    category page's subtree); a page sorted by a column is then merged from each category's
    own first rows (``paging.merged_page``); a search's first pages are read by the ids
    kept in their order (``paging.kept_order_page``).
    """
    visible = [*conditions]
    if categories is not None:
        visible.append(Product.category_id.in_(categories))
    base = [Product.status == ProductStatus.ACTIVE, *visible]
    narrowed = [*_price_conditions(filters), *_option_condition(filters.options)]
    order = _order(sort, ranked.c.rank if ranked is not None else None)
    statement: Select[Any] = card_select()
    if ranked is not None:
        statement = statement.join(ranked, ranked.c.product_id == Product.id)
    statement = statement.where(*base, *narrowed).order_by(*order)
    page_statement = statement
    if ranked is None and categories is not None and 1 < len(categories) <= MAX_MERGED:
        where = [Product.status == ProductStatus.ACTIVE, *conditions, *narrowed]
        merged = merged_page(categories, where, order, rows=number * size)
        page_statement = card_select().join(merged, merged.c.id == Product.id).order_by(*order)

    def summarise() -> ListingCounts:
        total = count_rows(session, statement)
        wanted = with_facets and (total or filters.options)
        facets = _facets(session, base, filters, ranked, scope) if wanted else []
        return ListingCounts(total, facets)

    if scope is None:
        counts = summarise()
    else:
        key = (scope, with_facets, *_filters_key(filters))
        counts = LISTING_CACHE.get_or_compute(session, key, summarise)
        if ranked is not None:
            kept = kept_order_page(
                session, statement, counts.kept_orders, counts.total, sort, number, size
            )
            if kept is not None:
                return Listing(page=kept, facets=counts.facets, sort=sort, filters=filters)
    page = paginate(session, page_statement, number, size, total=counts.total, fetch=load_cards)
    return Listing(page=page, facets=counts.facets, sort=sort, filters=filters)


@dataclass(frozen=True)
class ListingCounts:
    """What a listing counts over all its products: how many, and per option value; for a
    search, its first ids in each order read so far (``paging.kept_order_page``)."""

    total: int
    facets: list[Facet]
    kept_orders: dict[Hashable, array[int]] = field(default_factory=dict, compare=False)


# The counts of the listings asked for lately, per worker (a few kB each).
LISTING_CACHE = CatalogueCache(size=512)


def _filters_key(filters: ListingFilters) -> tuple[Hashable, ...]:
    """What of the filters the counts depend on (not the sort, not the page)."""
    options = tuple(sorted((name, tuple(values)) for name, values in filters.options.items()))
    return (filters.min_price, filters.max_price, options)


def _precedence(
    session: Session, product_ids: Select[Any], names: Collection[str]
) -> dict[str, dict[tuple[str, str], int]]:
    """Per option name, how many products list one value before another (one statement)."""
    first_position = (
        select(
            Variant.product_id,
            VariantOptionValue.name,
            VariantOptionValue.value,
            func.min(Variant.position).label("position"),
        )
        .join(Variant, Variant.id == VariantOptionValue.variant_id)
        .where(Variant.product_id.in_(product_ids), VariantOptionValue.name.in_(list(names)))
        .group_by(Variant.product_id, VariantOptionValue.name, VariantOptionValue.value)
        .subquery()
    )
    later = first_position.alias("later")
    statement = (
        select(first_position.c.name, first_position.c.value, later.c.value, func.count())
        .join(
            later,
            and_(
                later.c.product_id == first_position.c.product_id,
                later.c.name == first_position.c.name,
                later.c.position > first_position.c.position,
            ),
        )
        .group_by(first_position.c.name, first_position.c.value, later.c.value)
    )
    precedence: dict[str, dict[tuple[str, str], int]] = {}
    for name, first, second, count in session.execute(statement):
        precedence.setdefault(name, {})[(first, second)] = count
    return precedence


def _facets(
    session: Session,
    base: Sequence[ColumnElement[bool]],
    filters: ListingFilters,
    ranked: Subquery | None,
    scope: Hashable | None = None,
) -> list[Facet]:
    """Count, per option value, the products that would match if it were chosen.

    Within one option, values are alternatives, so an option's own selection is left out when
    counting its values; every other filter applies. One statement for the options nobody
    chose, one per chosen option, and one for the catalogue's order of sizes (kept once per
    ``scope`` and catalogue version: every filter of a listing shares it). Options come in
    the order variants give them (Size before Colour), values in their natural order (see
    ``catalogue_order`` and ``value_key``), both independent of the filters chosen.
    """
    base_ids = select(Product.id)
    if ranked is not None:
        base_ids = base_ids.join(ranked, ranked.c.product_id == Product.id)
    base_ids = base_ids.where(*base)
    product_ids = base_ids.where(*_price_conditions(filters))

    def counts(name_condition: ColumnElement[bool], options: Mapping[str, tuple[str, ...]]):
        statement = (
            select(
                VariantOptionValue.name,
                VariantOptionValue.value,
                func.min(VariantOptionValue.position),
                func.count(distinct(Variant.product_id)),
            )
            .join(Variant, Variant.id == VariantOptionValue.variant_id)
            .where(
                Variant.product_id.in_(product_ids),
                name_condition,
                *_variant_has_options(Variant.id, options),
            )
            .group_by(VariantOptionValue.name, VariantOptionValue.value)
        )
        return session.execute(statement).all()

    selected = dict(filters.options)
    rows = list(counts(VariantOptionValue.name.not_in(list(selected)), selected))
    for name in selected:
        others = {other: values for other, values in selected.items() if other != name}
        rows.extend(counts(VariantOptionValue.name == name, others))

    positions: dict[str, int] = {}
    facets: dict[str, list[FacetValue]] = {}
    for name, value, position, count in rows:
        positions[name] = min(position, positions.get(name, position))
        facets.setdefault(name, []).append(
            FacetValue(value=value, count=count, is_selected=filters.is_selected(name, value))
        )
    # Chosen values that no product has any more still show, with 0, so they can be unticked.
    for name, values in selected.items():
        present = {facet_value.value for facet_value in facets.get(name, [])}
        for value in values:
            if value not in present:
                facets.setdefault(name, []).append(FacetValue(value, 0, True))

    # The order comes from the unfiltered listing, so that choosing a value never moves another;
    # so every filter and sort of one listing (``scope``) shares it, counted once per version.
    def order() -> dict[str, dict[tuple[str, str], int]]:
        return _precedence(session, base_ids, CATALOGUE_ORDERED_OPTIONS)

    if scope is None:
        precedence = order()
    else:
        precedence = LISTING_CACHE.get_or_compute(session, (scope, "value order"), order)
    return [
        Facet(name=name, values=_ordered(name, values, precedence.get(name, {})))
        for name, values in sorted(
            facets.items(), key=lambda item: (positions.get(item[0], 0), item[0])
        )
    ]


def _ordered(
    name: str, values: list[FacetValue], precedence: Mapping[tuple[str, str], int]
) -> list[FacetValue]:
    if name in CATALOGUE_ORDERED_OPTIONS:
        rank = {
            value: index
            for index, value in enumerate(catalogue_order([v.value for v in values], precedence))
        }
        return sorted(values, key=lambda facet_value: rank[facet_value.value])
    return sorted(values, key=lambda facet_value: value_key(facet_value.value))
