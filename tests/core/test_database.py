"""transaction() and on_commit(): one transaction per use case, work scheduled after commit.

Each test runs on every backend (the ``app`` fixture) against a scratch table of its own, made
and dropped by the test, so that these tests need no domain model.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from funnel.core.database import in_transaction, on_commit, transaction
from funnel.extensions import db


class Boom(Exception):
    """Raised by a test to make a transaction fail."""


@pytest.fixture
def scratch(app: Flask) -> Iterator[sa.Table]:
    """A one-column table with a unique name (outside the models' metadata), dropped after."""
    table = sa.Table(
        f"scratch_{secrets.token_hex(4)}",
        sa.MetaData(),
        sa.Column("value", sa.String(20), nullable=False),
    )
    with db.engine.begin() as connection:
        table.create(connection)
    yield table
    db.session.remove()  # a transaction left open would block DROP on PostgreSQL and MariaDB
    with db.engine.begin() as connection:
        table.drop(connection)


def insert(table: sa.Table, value: str) -> None:
    db.session.execute(sa.insert(table).values(value=value))


def count(table: sa.Table) -> None:
    """A read through the session (which opens its transaction, as a request's reads do)."""
    db.session.execute(sa.select(sa.func.count()).select_from(table))


def committed_values(table: sa.Table) -> list[str]:
    """What another connection sees: only committed rows."""
    with db.engine.connect() as connection:
        return list(connection.scalars(sa.select(table.c.value).order_by(table.c.value)))


def fail_after(table: sa.Table, value: str, scheduled: Callable[[], object]) -> None:
    """A use case that writes, schedules ``scheduled``, then fails."""
    with transaction():
        if value:
            insert(table, value)
        on_commit(scheduled)
        raise Boom


def test_callbacks_run_after_the_commit_and_see_its_data(scratch: sa.Table) -> None:
    # given a callback that records what a separate connection sees when it runs
    seen: list[list[str]] = []

    # when a transaction writes a row and schedules the callback
    with transaction():
        insert(scratch, "a")
        on_commit(lambda: seen.append(committed_values(scratch)))
        ran_inside = list(seen)

    # then it had not run inside the block, and ran once after, seeing the committed row
    assert ran_inside == []
    assert seen == [["a"]]


def test_callbacks_run_in_the_order_they_were_scheduled(scratch: sa.Table) -> None:
    calls: list[str] = []

    with transaction():
        insert(scratch, "a")
        on_commit(lambda: calls.append("first"))
        on_commit(lambda: calls.append("second"))
        on_commit(lambda: calls.append("third"))

    assert calls == ["first", "second", "third"]


def test_an_error_rolls_back_and_drops_the_callbacks(scratch: sa.Table) -> None:
    # given
    calls: list[str] = []

    # when the block raises after writing and scheduling
    with pytest.raises(Boom):
        fail_after(scratch, "a", lambda: calls.append("sent"))

    # then nothing was written and nothing ran
    assert committed_values(scratch) == []
    assert calls == []
    assert in_transaction() is False


def test_callbacks_of_a_rolled_back_transaction_never_run_later(scratch: sa.Table) -> None:
    # given a transaction that failed with a callback scheduled
    calls: list[str] = []
    with pytest.raises(Boom):
        fail_after(scratch, "", lambda: calls.append("stale"))

    # when the next transaction commits
    with transaction():
        insert(scratch, "b")
        on_commit(lambda: calls.append("fresh"))

    # then only its own callback ran
    assert calls == ["fresh"]
    assert committed_values(scratch) == ["b"]


def test_nested_transactions_join_the_outer_one(scratch: sa.Table) -> None:
    # given
    calls: list[str] = []

    # when an inner block writes and schedules, inside an outer block that does the same
    with transaction() as outer:
        insert(scratch, "a")
        with transaction() as inner:
            insert(scratch, "b")
            on_commit(lambda: calls.append("inner"))
        calls_after_inner = list(calls)
        on_commit(lambda: calls.append("outer"))

    # then the inner block used the same session, its callback waited for the outer commit, and
    # both writes were committed together
    assert inner is outer
    assert calls_after_inner == []
    assert calls == ["inner", "outer"]
    assert committed_values(scratch) == ["a", "b"]


def test_a_finished_nested_block_is_rolled_back_with_the_outer_one(scratch: sa.Table) -> None:
    # given an outer use case that fails after a nested one completed
    calls: list[str] = []

    def outer_use_case() -> None:
        with transaction():
            with transaction():
                insert(scratch, "b")
                on_commit(lambda: calls.append("inner"))
            raise Boom

    # when
    with pytest.raises(Boom):
        outer_use_case()

    # then the nested block had committed nothing of its own
    assert committed_values(scratch) == []
    assert calls == []


def test_an_error_in_a_nested_block_rolls_back_the_whole_transaction(scratch: sa.Table) -> None:
    calls: list[str] = []

    # given / when an inner use case fails inside an outer one that wrote and scheduled
    def outer_use_case() -> None:
        with transaction():
            insert(scratch, "a")
            on_commit(lambda: calls.append("outer"))
            fail_after(scratch, "b", lambda: calls.append("inner"))

    with pytest.raises(Boom):
        outer_use_case()

    # then neither write nor callback survived

    assert committed_values(scratch) == []
    assert calls == []


def test_on_commit_outside_a_transaction_raises(app: Flask) -> None:
    with pytest.raises(RuntimeError, match=r"^on_commit\(\) called outside transaction\(\)$"):
        on_commit(lambda: None)


def test_on_commit_after_a_transaction_ended_raises(scratch: sa.Table) -> None:
    with transaction():
        insert(scratch, "a")

    with pytest.raises(RuntimeError, match=r"on_commit\(\) called outside transaction\(\)"):
        on_commit(lambda: None)


def test_in_transaction_follows_the_blocks(app: Flask) -> None:
    states = [in_transaction()]
    with transaction():
        states.append(in_transaction())
        with transaction():
            states.append(in_transaction())
        states.append(in_transaction())
    states.append(in_transaction())

    assert states == [False, True, True, True, False]


def test_a_callback_may_open_a_transaction_of_its_own(scratch: sa.Table) -> None:
    # given a callback that writes in its own transaction and schedules another callback
    calls: list[str] = []

    def follow_up() -> None:
        with transaction():
            insert(scratch, "b")
            on_commit(lambda: calls.append("follow-up committed"))

    # when
    with transaction():
        insert(scratch, "a")
        on_commit(follow_up)

    # then both transactions committed and the second callback ran
    assert committed_values(scratch) == ["a", "b"]
    assert calls == ["follow-up committed"]


def test_a_read_transaction_left_open_is_ended_before_a_write_one(scratch: sa.Table) -> None:
    # given the session already read (so it holds an open, deferred transaction)
    count(scratch)
    assert db.session().in_transaction() is True

    # when a write transaction runs
    with transaction():
        insert(scratch, "a")

    # then it committed
    assert committed_values(scratch) == ["a"]


@pytest.mark.backends("sqlite")
def test_sqlite_write_transactions_begin_immediate_and_reads_stay_deferred(
    scratch: sa.Table,
) -> None:
    # given a record of the BEGIN statements the engine sends
    begins: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.upper().startswith("BEGIN"):
            begins.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        # when a plain read ends, then a write transaction runs
        count(scratch)
        db.session.commit()
        with transaction():
            insert(scratch, "a")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)

    # then
    assert begins == ["BEGIN", "BEGIN IMMEDIATE"]


@pytest.mark.backends("sqlite")
def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(app: Flask) -> None:
    with db.engine.connect() as connection:
        pragmas = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }

    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 15000,
        "synchronous": 1,  # NORMAL
    }


def test_a_failing_callback_is_logged_and_the_others_still_run(
    scratch: sa.Table, caplog: pytest.LogCaptureFixture
) -> None:
    # given a transaction whose first follow-up fails (an SMTP server down, say)
    ran: list[str] = []

    def failing() -> None:
        raise Boom

    # when it commits
    with transaction():
        insert(scratch, "kept")
        on_commit(failing)
        on_commit(lambda: ran.append("second"))

    # then the data stands, the second callback ran, and the failure was logged
    assert committed_values(scratch) == ["kept"]
    assert ran == ["second"]
    assert [record.message for record in caplog.records if record.levelname == "ERROR"] == [
        f"on_commit callback {failing!r} failed"
    ]
