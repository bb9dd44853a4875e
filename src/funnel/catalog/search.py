"""Full-text search of active products, the same behaviour on SQLite, PostgreSQL and MariaDB.

``search_products`` is the one entry point. The visitor's text never reaches a search syntax:
it is cut to word tokens (letters and digits), and each token becomes a quoted term that every
result must contain, matched by prefix when it has two letters or more:

- SQLite: FTS5 external-content table ``products_fts`` (kept by triggers), ``"word"*`` terms,
  ranked by ``bm25`` (its ``rank`` column);
- PostgreSQL: GIN index on ``to_tsvector('simple', search_document)``, ``'word':*`` terms joined
  by ``&``, ranked by ``ts_rank``;
- MariaDB/MySQL: FULLTEXT index, boolean mode ``+word*`` terms, ranked by ``MATCH ... AGAINST``.
  InnoDB indexes no word shorter than ``innodb_ft_min_token_size`` (3) and no stopword, so those
  words are left out of the query there (they match nothing).

A query equal to a variant's SKU (any letter case) always finds its product, first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Float, Subquery, cast, func, literal, literal_column, select, text
from sqlalchemy.dialects.mysql import match

from funnel.catalog.listing import Listing, ListingFilters, ListingSort, run_listing
from funnel.catalog.models import Product, Variant
from funnel.core.pagination import Page
from funnel.extensions import db

MAX_QUERY_LENGTH = 200
MAX_TOKENS = 12
MAX_TOKEN_LENGTH = 40
EXACT_SKU_RANK = 1.0e9
MIN_PREFIX_LENGTH = 2
_WORD = re.compile(r"[^\W_]+")
_SKU = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,63}$")
_INNODB_MIN_TOKEN = 3
# InnoDB's default stopword list (INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD).
_INNODB_STOPWORDS = frozenset(
    ("a", "about", "an", "are", "as", "at", "be", "by", "com", "de", "en", "for", "from", "how",
     "i", "in", "is", "it", "la", "of", "on", "or", "that", "the", "this", "to", "was", "what",
     "when", "where", "who", "will", "with", "und", "www")
)  # fmt: skip


@dataclass(frozen=True)
class SearchResult:
    query: str
    listing: Listing | None

    @property
    def is_empty_query(self) -> bool:
        return self.query == ""


def normalise_query(raw: str | None) -> str:
    """The query as shown back to the visitor: trimmed, spaces collapsed, at most 200 chars."""
    return " ".join((raw or "").split())[:MAX_QUERY_LENGTH]


def query_tokens(query: str) -> list[str]:
    """Lower-case word tokens (letters and digits only), without repeats, at most 12."""
    tokens: list[str] = []
    for token in _WORD.findall(query.lower()):
        token = token[:MAX_TOKEN_LENGTH]
        if token not in tokens:
            tokens.append(token)
        if len(tokens) == MAX_TOKENS:
            break
    return tokens


def _prefix(token: str, operator: str) -> str:
    """Words match by prefix, except one-letter words (a prefix of nearly every document)."""
    return operator if len(token) >= MIN_PREFIX_LENGTH else ""


def _text_matches(dialect: str, tokens: list[str]):
    """A select of (product_id, rank) for the products containing every token, or None."""
    if dialect == "sqlite":
        expression = " ".join(f'"{token}"{_prefix(token, "*")}' for token in tokens)
        return (
            select(
                literal_column("products_fts.rowid").label("product_id"),
                # FTS5's hidden ``rank`` column is bm25 (lower is better); unlike the bm25()
                # function it may be used from a subquery.
                cast(-literal_column("products_fts.rank"), Float).label("rank"),
            )
            .select_from(text("products_fts"))
            .where(text("products_fts MATCH :fts_query").bindparams(fts_query=expression))
        )
    if dialect == "postgresql":
        expression = " & ".join(f"'{token}'{_prefix(token, ':*')}" for token in tokens)
        vector = func.to_tsvector(literal_column("'simple'"), Product.search_document)
        tsquery = func.to_tsquery(literal_column("'simple'"), expression)
        return select(
            Product.id.label("product_id"), cast(func.ts_rank(vector, tsquery), Float).label("rank")
        ).where(vector.op("@@")(tsquery))
    # MariaDB / MySQL
    words = [
        token
        for token in tokens
        if len(token) >= _INNODB_MIN_TOKEN and token not in _INNODB_STOPWORDS
    ]
    if not words:
        return None
    relevance = match(
        Product.search_document, against=" ".join(f"+{word}*" for word in words)
    ).in_boolean_mode()
    return select(Product.id.label("product_id"), cast(relevance, Float).label("rank")).where(
        relevance
    )


def _ranked_matches(dialect: str, query: str) -> Subquery | None:
    branches = []
    tokens = query_tokens(query)
    if tokens:
        text_branch = _text_matches(dialect, tokens)
        if text_branch is not None:
            branches.append(text_branch)
    sku = query.strip().upper()
    if _SKU.match(sku):
        branches.append(
            select(
                Variant.product_id.label("product_id"),
                literal(EXACT_SKU_RANK, Float).label("rank"),
            ).where(Variant.sku == sku)
        )
    if not branches:
        return None
    union = branches[0] if len(branches) == 1 else branches[0].union_all(*branches[1:])
    matches = union.subquery("matches")
    return (
        select(matches.c.product_id, func.max(matches.c.rank).label("rank"))
        .group_by(matches.c.product_id)
        .subquery("ranked")
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
    counts unless ``with_facets`` is False.

    Any text is accepted: an empty query gives ``listing=None`` (the page asks for a term);
    text with no searchable word gives an empty listing. Never raises for user input.
    """
    query = normalise_query(raw_query)
    if not query:
        return SearchResult(query="", listing=None)
    ranked = _ranked_matches(db.engine.dialect.name, query)
    if ranked is None:
        empty = Listing(page=Page([], number, size, 0), facets=[], sort=sort, filters=filters)
        return SearchResult(query=query, listing=empty)
    listing = run_listing(
        db.session,
        conditions=[] if category_ids is None else [Product.category_id.in_(category_ids)],
        filters=filters,
        sort=sort,
        number=number,
        size=size,
        ranked=ranked,
        with_facets=with_facets,
    )
    return SearchResult(query=query, listing=listing)
