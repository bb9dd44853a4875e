"""Typo tolerance: the catalogue's own words closest to a misspelt query.

Asked only when a query finds nothing. One statement fetches, for every word of the query
long enough to hold a typo, the vocabulary words (``search_terms``) that share the most
three-letter pieces with it, using each database's own trigram index:

- SQLite: an FTS5 table with the ``trigram`` tokenizer over ``search_terms.term``, asked for
  any of the word's trigrams (``"ket" OR "ett" OR ...``), best ``bm25`` first;
- PostgreSQL: ``pg_trgm``'s GiST index on ``search_terms.term``, nearest by ``<->`` (trigram
  distance), which needs no similarity threshold;
- MariaDB/MySQL: a FULLTEXT index over ``search_terms.trigrams`` (the word's trigrams as
  words), asked in natural language mode.

The same statement also fetches the words that begin with the same two letters and are about as
long (a range on the unique index of ``term``): a short word with a swap near its end shares no
trigram with the word meant. Python then keeps the candidate with the fewest typing mistakes
(Damerau-Levenshtein), within ``allowed_edits``; ties go to the candidate the index ranked first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer, Select, cast, func, literal, literal_column, select, text
from sqlalchemy.dialects.mysql import match
from sqlalchemy.orm import Session

from funnel.catalog.models import SearchTerm
from funnel.catalog.search.words import allowed_edits, edit_distance, query_tokens, trigrams

CANDIDATES_PER_WORD = 30
# The order of candidates found by their first letters: after those the trigram index ranked.
LAST = 1.0e9


def _candidates(dialect: str, position: int, word: str) -> Select[Any]:
    """(position, term, order) of the vocabulary words most alike ``word``."""
    if dialect == "sqlite":
        expression = " OR ".join(f'"{piece}"' for piece in trigrams(word))
        inner = (
            select(
                literal_column("search_terms_fts.term").label("term"),
                cast(literal_column("search_terms_fts.rank"), Float).label("score"),
            )
            .select_from(text("search_terms_fts"))
            .where(
                text(f"search_terms_fts MATCH :trigrams_{position}").bindparams(
                    **{f"trigrams_{position}": expression}
                )
            )
            .order_by(literal_column("score"))
        )
    elif dialect == "postgresql":
        distance = SearchTerm.term.op("<->", return_type=Float)(word)
        inner = select(SearchTerm.term.label("term"), distance.label("score")).order_by(distance)
    else:  # MariaDB / MySQL
        relevance = match(SearchTerm.trigrams, against=" ".join(trigrams(word)))
        inner = (
            select(SearchTerm.term.label("term"), cast(-relevance, Float).label("score"))
            .where(relevance)
            .order_by(literal_column("score"))
        )
    limited = inner.limit(CANDIDATES_PER_WORD).subquery(f"candidates_{position}")
    return select(
        literal(position, Integer).label("position"),
        limited.c.term,
        limited.c.score,
    )


def _same_start(dialect: str, position: int, word: str) -> Select[Any]:
    """(position, term, order) of the words that begin with the same two letters and are about
    as long: a short word with two letters swapped near its end ("bodl") shares no trigram with
    the word meant ("bold"). A range on the unique index of ``term``, on every database."""
    start = word[:2]
    after = start[:-1] + chr(ord(start[-1]) + 1)
    length = func.char_length if dialect in {"mysql", "mariadb"} else func.length
    edits = allowed_edits(word)
    inner = (
        select(SearchTerm.term.label("term"), literal(LAST, Float).label("score"))
        .where(
            SearchTerm.term >= start,
            SearchTerm.term < after,
            length(SearchTerm.term).between(len(word) - edits, len(word) + edits),
        )
        .order_by(SearchTerm.term)
        .limit(CANDIDATES_PER_WORD)
        .subquery(f"same_start_{position}")
    )
    return select(literal(position, Integer).label("position"), inner.c.term, inner.c.score)


def correct_query(session: Session, query: str) -> str | None:
    """``query`` with each misspelt word replaced by the closest word of the catalogue, or
    None when no word was changed. One statement, or none for a query of short words."""
    tokens = query_tokens(query)
    correctable = [
        (position, token)
        for position, token in enumerate(tokens)
        if allowed_edits(token) and trigrams(token)
    ]
    if not correctable:
        return None
    dialect = session.get_bind().dialect.name
    branches = [
        branch
        for position, token in correctable
        for branch in (
            _candidates(dialect, position, token),
            _same_start(dialect, position, token),
        )
    ]
    statement = branches[0] if len(branches) == 1 else branches[0].union_all(*branches[1:])
    candidates: dict[int, list[str]] = {}
    for position, term, _score in session.execute(
        statement.order_by(literal_column("position"), literal_column("score"))
    ):
        candidates.setdefault(position, []).append(term)
    corrected = list(tokens)
    for position, token in correctable:
        best: tuple[int, str] | None = None
        for term in candidates.get(position, []):
            distance = edit_distance(token, term)
            if best is None or distance < best[0]:
                best = (distance, term)
        if best is not None and 0 < best[0] <= allowed_edits(token):
            corrected[position] = best[1]
    if corrected == tokens:
        return None
    return " ".join(corrected)
