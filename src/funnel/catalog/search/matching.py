"""Full-text matching of products, per database, with stemming on each.

The visitor's text never reaches a search syntax: it is cut to word tokens (letters and
digits, see ``words``), and each token becomes a quoted term that every result must contain,
matched by prefix when it has two letters or more, and by its English stem:

- SQLite: FTS5 external-content table ``products_fts`` (kept by triggers) with the ``porter``
  tokenizer over ``unicode61``, so ``"kettles"*`` finds *kettle*; ranked by ``bm25`` (its
  ``rank`` column);
- PostgreSQL: GIN index on the stored column ``search_vector``, generated as
  ``to_tsvector('simple', doc) || to_tsvector('english', doc)`` (migration 0038); each
  token asks ``simple`` (exact words, stopwords, SKU parts) or ``english`` (stems), prefixes
  ``:*``, joined by ``&``, ranked by ``ts_rank``;
- MariaDB/MySQL: FULLTEXT index, boolean mode ``+(word* stem*)`` terms, ranked by
  ``MATCH ... AGAINST``. InnoDB has no stemmer: the token's Snowball stem is asked as a prefix,
  and the search document carries the stems that are not a prefix of their word. InnoDB
  indexes no word shorter than ``innodb_ft_min_token_size`` (3) and no stopword, so those words
  are left out of the query there (they match nothing).

A query equal to a variant's SKU (any letter case) always finds its product, first.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Float, Select, Subquery, cast, func, literal, literal_column, select, text
from sqlalchemy.dialects.mysql import match

from funnel.catalog.models import Product, Variant
from funnel.catalog.search.words import query_tokens, stem

EXACT_SKU_RANK = 1.0e9
MIN_PREFIX_LENGTH = 2
_SKU = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,63}$")
_INNODB_MIN_TOKEN = 3
# InnoDB's default stopword list (INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD).
_INNODB_STOPWORDS = frozenset(
    ("a", "about", "an", "are", "as", "at", "be", "by", "com", "de", "en", "for", "from", "how",
     "i", "in", "is", "it", "la", "of", "on", "or", "that", "the", "this", "to", "was", "what",
     "when", "where", "who", "will", "with", "und", "www")
)  # fmt: skip


def _prefix(token: str, operator: str) -> str:
    """Words match by prefix, except one-letter words (a prefix of nearly every document)."""
    return operator if len(token) >= MIN_PREFIX_LENGTH else ""


def product_vector() -> Any:
    """PostgreSQL's stored search vector of a product, which its GIN index is built on (made by
    the migration only: no model describes it). Read, not computed: a search checks and ranks
    every match by it."""
    return literal_column("products.search_vector")


def _sqlite_matches(tokens: list[str]) -> Select[Any]:
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


def _postgresql_matches(tokens: list[str]) -> Select[Any]:
    tsquery: Any = None
    for token in tokens:
        term = f"'{token}'{_prefix(token, ':*')}"
        # An English stopword ("the") gives an empty English query; ORed, the simple one stays.
        either = func.to_tsquery(literal_column("'simple'"), term).op("||")(
            func.to_tsquery(literal_column("'english'"), term)
        )
        tsquery = either if tsquery is None else tsquery.op("&&")(either)
    vector = product_vector()
    return select(
        Product.id.label("product_id"), cast(func.ts_rank(vector, tsquery), Float).label("rank")
    ).where(vector.op("@@")(tsquery))


def _innodb_word(word: str) -> bool:
    return len(word) >= _INNODB_MIN_TOKEN and word not in _INNODB_STOPWORDS


def _mysql_matches(tokens: list[str]) -> Select[Any] | None:
    terms = []
    for token in tokens:
        if not _innodb_word(token):
            continue
        token_stem = stem(token)
        if token_stem != token and _innodb_word(token_stem):
            terms.append(f"+({token}* {token_stem}*)")
        else:
            terms.append(f"+{token}*")
    if not terms:
        return None
    relevance = match(Product.search_document, against=" ".join(terms)).in_boolean_mode()
    return select(Product.id.label("product_id"), cast(relevance, Float).label("rank")).where(
        relevance
    )


def text_matches(dialect: str, tokens: list[str]) -> Select[Any] | None:
    """A select of (product_id, rank) for the products containing every token, or None."""
    if dialect == "sqlite":
        return _sqlite_matches(tokens)
    if dialect == "postgresql":
        return _postgresql_matches(tokens)
    return _mysql_matches(tokens)  # MariaDB / MySQL


def ranked_matches(dialect: str, query: str) -> Subquery | None:
    """A subquery of (product_id, rank): the full-text matches of ``query``'s words and the
    product whose variant's SKU it is; None when the query has nothing to search for."""
    branches = []
    tokens = query_tokens(query)
    if tokens:
        text_branch = text_matches(dialect, tokens)
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
