"""Suggestions as you type: a few product titles and categories for the words typed so far.

The products come from the same stemmed, prefix full-text match as the search (``matching``),
best first; when the words find nothing, from the query corrected by ``spelling``, as the
search page would. The categories are those whose name contains the typed text, read from the
category tree the page already holds. At most three statements, whatever the catalogue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from funnel.catalog.models import Product, ProductStatus
from funnel.catalog.search.matching import ranked_matches
from funnel.catalog.search.spelling import correct_query
from funnel.catalog.search.words import normalise_query
from funnel.catalog.tree import CategoryNode
from funnel.extensions import db

MAX_PRODUCTS = 6
MAX_CATEGORIES = 3
MIN_QUERY_LENGTH = 2


@dataclass(frozen=True)
class ProductSuggestion:
    title: str
    slug: str


@dataclass(frozen=True)
class Suggestions:
    query: str
    products: list[ProductSuggestion] = field(default_factory=list)
    categories: list[CategoryNode] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.products and not self.categories


def _products(query: str) -> list[ProductSuggestion]:
    ranked = ranked_matches(db.engine.dialect.name, query)
    if ranked is None:
        return []
    rows = db.session.execute(
        select(Product.title, Product.slug)
        .join(ranked, ranked.c.product_id == Product.id)
        .where(Product.status == ProductStatus.ACTIVE)
        .order_by(ranked.c.rank.desc(), Product.id)
        .limit(MAX_PRODUCTS)
    ).all()
    return [ProductSuggestion(title=title, slug=slug) for title, slug in rows]


def suggest(raw_query: str | None, categories: Sequence[CategoryNode]) -> Suggestions:
    """Up to 6 active products and 3 of ``categories`` (the shop's, in tree order) for the text
    typed so far; nothing for fewer than 2 characters. Never raises for user input."""
    query = normalise_query(raw_query)
    if len(query) < MIN_QUERY_LENGTH:
        return Suggestions(query=query)
    products = _products(query)
    if not products:
        corrected = correct_query(db.session, query)
        if corrected is not None:
            products = _products(corrected)
    folded = query.casefold()
    matching = [category for category in categories if folded in category.name.casefold()]
    return Suggestions(query=query, products=products, categories=matching[:MAX_CATEGORIES])
