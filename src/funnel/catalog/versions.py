"""The catalogue version, and what each worker keeps under it.

Listings spend most of their time counting, over every product of the category or search, the
products and the products per option value (the facets). Those counts change only when the
catalogue does, so each worker keeps them in memory under the catalogue's version
(``CatalogueCache``), and reads the version, one primary-key row, on every request: a change
shows on the very next request of every worker, never later.

The version changes in the transaction of the change itself, whatever the way in: session hooks
see every flush that inserts, updates or deletes a category, product, variant, option value or
image (``before_flush``), and every INSERT, UPDATE or DELETE statement run through the session
on their tables (``do_orm_execute``: the CSV import, the bulk loader). The new version is
written before the change's own rows, so catalogue writers queue on its row first. A stock level
is not catalogue content (the listings neither filter nor count by it), so the inventory's
conditional stock updates leave the version alone.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Insert, event, inspect, select
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, scoped_session

from funnel.catalog.models import (
    CatalogueVersion,
    Category,
    Product,
    ProductImage,
    Variant,
    VariantOptionValue,
)
from funnel.extensions import db

T = TypeVar("T")

VERSION_ROW = 1
CATALOGUE_MODELS = (Category, Product, Variant, VariantOptionValue, ProductImage)
CATALOGUE_TABLES = frozenset(model.__tablename__ for model in CATALOGUE_MODELS)
# The variant columns the inventory owns: changing only these is no catalogue change.
STOCK_COLUMNS = frozenset({"stock_quantity", "low_stock_threshold"})


# Built once: a statement object reused keeps its SQL cache key, which SQLAlchemy otherwise
# computes again for every new one (a listing page reads the version on every request).
_VERSION = select(CatalogueVersion.version).where(CatalogueVersion.id == VERSION_ROW)


# The version a transaction has read, kept in its session for the rest of it: a page asks for
# several kept values (the category tree, a listing's counts, its HTML) with one read. Any
# change of the catalogue in that transaction drops it (``bump_version``).
_READ_VERSION = "funnel.catalogue_version"


def current_version(session: Session) -> int:
    """The catalogue's version (one primary-key read per transaction); 0 before its first
    change."""
    actual = session() if isinstance(session, scoped_session) else session
    transaction = actual.get_transaction()
    known = actual.info.get(_READ_VERSION)
    if transaction is not None and known is not None and known[0] is transaction:
        return known[1]  # type: ignore[no-any-return]
    version = actual.scalar(_VERSION) or 0
    actual.info[_READ_VERSION] = (actual.get_transaction(), version)
    return version


def _new_version_statement(dialect: str, version: int) -> Insert:
    """One upsert: the row is made by the first change, so no seeded row is needed."""
    table = CatalogueVersion.__table__
    row = {"id": VERSION_ROW, "version": version}
    if dialect == "postgresql":
        statement = postgresql.insert(table).values(row)
        return statement.on_conflict_do_update(
            index_elements=["id"], set_={"version": statement.excluded.version}
        )
    if dialect == "sqlite":
        statement = sqlite.insert(table).values(row)
        return statement.on_conflict_do_update(
            index_elements=["id"], set_={"version": statement.excluded.version}
        )
    statement = mysql.insert(table).values(row)
    return statement.on_duplicate_key_update(version=statement.inserted.version)


def bump_version(session: Session) -> None:
    """Give the catalogue a new version, in the session's transaction (one statement)."""
    session.info.pop(_READ_VERSION, None)
    connection = session.connection()
    version = secrets.randbits(62) or 1
    connection.execute(_new_version_statement(connection.dialect.name, version))


def _changed_columns(instance: Any) -> set[str]:
    state = inspect(instance)
    return {attribute.key for attribute in state.attrs if attribute.history.has_changes()}


def _flush_changes_catalogue(session: Session) -> bool:
    if any(isinstance(instance, CATALOGUE_MODELS) for instance in session.new):
        return True
    if any(isinstance(instance, CATALOGUE_MODELS) for instance in session.deleted):
        return True
    for instance in session.dirty:
        if not isinstance(instance, CATALOGUE_MODELS):
            continue
        changed = _changed_columns(instance)
        if isinstance(instance, Variant):
            changed -= STOCK_COLUMNS
        if changed:
            return True
    return False


def _before_flush(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    if _flush_changes_catalogue(session):
        bump_version(session)


def _written_columns(state: ORMExecuteState) -> set[str] | None:
    """The columns an UPDATE sets (by its VALUES or its rows of parameters); None if unknown."""
    values: Mapping[Any, Any] = getattr(state.statement, "_values", None) or {}
    columns = {getattr(column, "key", column) for column in values}
    parameters = state.parameters
    rows = parameters if isinstance(parameters, list) else [parameters] if parameters else []
    for row in rows:
        columns.update(key for key in row if key != "id")
    return {str(column) for column in columns} or None


def _before_statement(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) not in CATALOGUE_TABLES:
        return
    if state.is_update and table.name == Variant.__tablename__:
        columns = _written_columns(state)
        if columns is not None and columns <= STOCK_COLUMNS:
            return
    bump_version(state.session)


def watch_catalogue_changes() -> None:
    """Register the session hooks that keep the version (idempotent: the app factory calls it
    for every app it builds)."""
    hooks: tuple[tuple[str, Callable[..., None]], ...] = (
        ("before_flush", _before_flush),
        ("do_orm_execute", _before_statement),
    )
    for name, hook in hooks:
        if not event.contains(db.session, name, hook):
            event.listen(db.session, name, hook)


class CatalogueCache:
    """Values computed from the catalogue, kept in this process under the catalogue version and
    the database they came from: at most ``size``, the least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, session: Session, key: Hashable, compute: Callable[[], T]) -> T:
        """The value for ``key`` at the catalogue's current version: kept, or computed (in the
        same transaction, after reading the version, so it is never older than the key).

        A value computed from others kept under the version (a listing's HTML from its counts)
        looks them up under the same version: the transaction reads it once
        (``current_version``)."""
        version = current_version(session)
        full_key = (session.get_bind().url, version, key)
        with self._lock:
            if full_key in self._entries:
                self._entries.move_to_end(full_key)
                return self._entries[full_key]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            self._entries[full_key] = value
            self._entries.move_to_end(full_key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
