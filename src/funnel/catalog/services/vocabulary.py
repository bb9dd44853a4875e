"""The catalogue's vocabulary (``search_terms``): the words "did you mean" may offer.

Every service that writes a product's title or description adds its words here in the same
transaction, so the vocabulary follows the catalogue on every database, whatever the way in
(staff pages, the API, CSV import, the bulk loader). Words already known are skipped by the
database itself (an upsert that does nothing), so concurrent writers cannot collide.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import mysql, postgresql, sqlite

from funnel.catalog.models import SearchTerm
from funnel.catalog.search.words import trigrams, vocabulary
from funnel.extensions import db

BATCH_SIZE = 1_000


def _insert_new(dialect: str) -> Insert:
    table = SearchTerm.__table__
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=["term"])
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=["term"])
    statement = mysql.insert(table)
    return statement.on_duplicate_key_update(term=statement.inserted.term)


def remember_words(texts: Iterable[str]) -> None:
    """Add the words of ``texts`` (titles, descriptions) to the vocabulary; joins the
    caller's transaction (one statement per 1,000 new words, none when there are none)."""
    words = sorted(vocabulary(texts))
    if not words:
        return
    statement = _insert_new(db.session.get_bind().dialect.name)
    for start in range(0, len(words), BATCH_SIZE):
        rows: list[dict[str, Any]] = [
            {"term": word, "trigrams": " ".join(trigrams(word))}
            for word in words[start : start + BATCH_SIZE]
        ]
        db.session.execute(statement, rows)
