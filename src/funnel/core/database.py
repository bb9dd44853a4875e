"""Transactions and engine set-up.

Services own transactions: ``with transaction():`` opens one (nested calls join it), commits
at the end, rolls back on error, and then runs what was scheduled with ``on_commit``.

On SQLite a write transaction begins ``IMMEDIATE`` (SQLite ignores ``FOR UPDATE``, so a
deferred transaction could read, then fail to upgrade its lock); reads stay deferred, and WAL
lets them run beside a writer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from flask import has_request_context
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from funnel.core.models import Base

# The application's one SQLAlchemy object (``funnel.extensions`` hands it on to the domains).
db = SQLAlchemy(model_class=Base)

log = logging.getLogger(__name__)

# What the database (or the pool in front of it) raises when it cannot serve: down, restarting,
# connections cut, every pooled connection busy, a lock or statement waited too long. The
# request is answered 503 with Retry-After (``core.http``), not 500.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
)
# PostgreSQL's query_canceled; MariaDB's max_statement_time, MySQL's max_execution_time.
_POSTGRESQL_CANCELED = "57014"
_MYSQL_STATEMENT_TIMEOUTS = frozenset({1969, 3024})

_DEPTH_KEY = "funnel.transaction_depth"
_CALLBACKS_KEY = "funnel.on_commit"
_write_transaction: ContextVar[bool] = ContextVar("funnel_write_transaction", default=False)


@contextmanager
def transaction() -> Iterator[Session]:
    """Run the block in one database transaction; nested calls join the outer one.

    Side effects: commits (or rolls back on any exception), then runs ``on_commit`` callbacks in
    the order they were scheduled, only after a successful commit of the outermost block. A
    callback that raises is logged and the others still run: the commit stands.
    """
    session = db.session()
    depth = session.info.get(_DEPTH_KEY, 0)
    if depth:
        session.info[_DEPTH_KEY] = depth + 1
        try:
            yield session
        finally:
            session.info[_DEPTH_KEY] = depth
        return

    if session.in_transaction():
        # A read-only transaction opened by the request so far: end it, so that the write
        # transaction begins afresh (IMMEDIATE on SQLite) and sees the latest data.
        session.commit()
    token = _write_transaction.set(True)
    session.info[_DEPTH_KEY] = 1
    session.info[_CALLBACKS_KEY] = []
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        session.info[_CALLBACKS_KEY] = []
        raise
    finally:
        session.info[_DEPTH_KEY] = 0
        _write_transaction.reset(token)
    callbacks: list[Callable[[], Any]] = session.info.pop(_CALLBACKS_KEY, [])
    for callback in callbacks:
        try:
            callback()
        except Exception:
            # The data is committed: a failing follow-up (an SMTP server down) must not turn the
            # user's completed action into an error page, nor stop the other callbacks.
            log.exception("on_commit callback %r failed", callback)


def on_commit(callback: Callable[[], Any]) -> None:
    """Schedule ``callback`` to run after the current transaction commits.

    Raises RuntimeError outside ``transaction()``: work scheduled there could never be tied to
    a commit.
    """
    session = db.session()
    if not session.info.get(_DEPTH_KEY):
        raise RuntimeError("on_commit() called outside transaction()")
    session.info[_CALLBACKS_KEY].append(callback)


def in_transaction() -> bool:
    """Whether a ``transaction()`` block is open in this context (without making a session
    when this context has none yet: then none is open)."""
    registry = db.session.registry
    return registry.has() and bool(registry().info.get(_DEPTH_KEY))


def refresh_planner_statistics() -> bool:
    """After a bulk load, ``ANALYZE`` on PostgreSQL; whether it ran.

    PostgreSQL plans from statistics that only ANALYZE (or autovacuum, a minute or more
    later) gathers: until then a table loaded with 10,000 rows is planned as nearly empty, and
    a listing that takes 0.04 ms can take 16 ms. SQLite and MariaDB are left alone: SQLite
    plans from its indexes without statistics, and InnoDB samples its own.
    """
    session = db.session()
    if session.get_bind().dialect.name != "postgresql":
        return False
    session.commit()  # ANALYZE sees what the load committed, and holds no open transaction
    session.execute(text("ANALYZE"))
    session.commit()
    return True


def is_statement_timeout(error: BaseException) -> bool:
    """Whether the database cancelled a statement for running past its timeout."""
    original = getattr(error, "orig", None)
    if getattr(original, "sqlstate", None) == _POSTGRESQL_CANCELED:
        return True
    arguments = getattr(original, "args", ())
    return bool(arguments) and arguments[0] in _MYSQL_STATEMENT_TIMEOUTS


def configure_engine(engine: Engine, *, statement_timeout_seconds: int = 0) -> None:
    """Dialect set-up: SQLite gets WAL, a busy timeout, foreign keys and IMMEDIATE writes;
    PostgreSQL and MariaDB/MySQL cut a web request's statements at ``statement_timeout_seconds``
    (the request deadline; jobs, migrations and commands keep no limit)."""
    if getattr(engine, "_funnel_configured", False):
        return
    engine._funnel_configured = True  # type: ignore[attr-defined]
    if engine.dialect.name != "sqlite":
        if statement_timeout_seconds > 0:
            _limit_request_statements(engine, statement_timeout_seconds)
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is deferred only).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_transaction.get() else "BEGIN")


def _limit_request_statements(engine: Engine, seconds: int) -> None:
    """Set the session's statement timeout when a connection is handed to a web request, and
    lift it for anything else; the value is remembered per connection (no extra round trip
    while it stays the same)."""
    dialect = engine.dialect.name

    def statements(limit: int) -> list[str]:
        if dialect == "postgresql":
            return [f"SET statement_timeout = {limit * 1000}"]
        # MariaDB names it max_statement_time (seconds); MySQL max_execution_time (ms, reads).
        if getattr(engine.dialect, "is_mariadb", False):
            return [f"SET SESSION max_statement_time = {limit}"]
        return [f"SET SESSION max_execution_time = {limit * 1000}"]

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        wanted = seconds if has_request_context() else 0
        if record.info.get("funnel.statement_timeout", 0) == wanted:
            return
        cursor = dbapi_connection.cursor()
        try:
            for statement in statements(wanted):
                cursor.execute(statement)
        finally:
            cursor.close()
        dbapi_connection.commit()  # PostgreSQL: a SET in a transaction rolled back is undone
        record.info["funnel.statement_timeout"] = wanted
