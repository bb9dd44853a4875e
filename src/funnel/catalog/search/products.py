"""``search_products``: the one search of the storefront page and the API's product list.

A query is first searched as typed (stemmed, by prefix: see ``matching``). Only when that finds
nothing, its misspelt words are corrected from the catalogue's vocabulary (``spelling``) and
the corrected query is searched instead; the result says so (``corrected_query``), and the page
offers it as "did you mean". So an exact hit costs the statements it always did, and a near
miss two more runs of a constant few (the vocabulary lookup and the corrected search).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from funnel.catalog.listing import Listing, ListingFilters, ListingSort, run_listing
from funnel.catalog.models import Product
from funnel.catalog.search.matching import ranked_matches
from funnel.catalog.search.spelling import correct_query
from funnel.catalog.search.words import normalise_query
from funnel.core.pagination import Page
from funnel.extensions import db


@dataclass(frozen=True)
class SearchResult:
    query: str
    listing: Listing | None
    # The query actually searched when the one typed found nothing ("did you mean").
    corrected_query: str | None = None

    @property
    def is_empty_query(self) -> bool:
        return self.query == ""


def _listing(
    query: str,
    filters: ListingFilters,
    sort: ListingSort,
    number: int,
    size: int,
    category_ids: Sequence[int] | None,
    with_facets: bool,
) -> Listing:
    ranked = ranked_matches(db.engine.dialect.name, query)
    if ranked is None:
        return Listing(page=Page([], number, size, 0), facets=[], sort=sort, filters=filters)
    return run_listing(
        db.session,
        conditions=[] if category_ids is None else [Product.category_id.in_(category_ids)],
        filters=filters,
        sort=sort,
        number=number,
        size=size,
        ranked=ranked,
        with_facets=with_facets,
        scope=("search", query, None if category_ids is None else tuple(category_ids)),
    )


def search_products(
    raw_query: str | None,
    filters: ListingFilters,
    sort: ListingSort,
    number: int,
    size: int,
    *,
    category_ids: Sequence[int] | None = None,
    with_facets: bool = True,
) -> SearchResult:
    """Active products matching ``raw_query``, ranked (or sorted by ``sort``), one page;
    only those in ``category_ids`` when given (a category and its descendants); the facet
    counts unless ``with_facets`` is False. When nothing matches, the query with its
    misspellings corrected from the catalogue's words, if that finds products
    (``corrected_query``).

    Any text is accepted: an empty query gives ``listing=None`` (the page asks for a term);
    text with no searchable word gives an empty listing. Never raises for user input.
    """
    query = normalise_query(raw_query)
    if not query:
        return SearchResult(query="", listing=None)
    arguments = (filters, sort, number, size, category_ids, with_facets)
    listing = _listing(query, *arguments)
    if listing.page.total:
        return SearchResult(query=query, listing=listing)
    corrected = correct_query(db.session, query)
    if corrected is None:
        return SearchResult(query=query, listing=listing)
    corrected_listing = _listing(corrected, *arguments)
    if not corrected_listing.page.total:
        return SearchResult(query=query, listing=listing)
    return SearchResult(query=query, listing=corrected_listing, corrected_query=corrected)
