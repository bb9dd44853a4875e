"""UTCDateTime: aware UTC in, aware UTC out, to the microsecond, on every backend."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from flask import Flask

from funnel.core.models import UTCDateTime
from funnel.extensions import db


@pytest.fixture
def stamped(app: Flask) -> Iterator[sa.Table]:
    table = sa.Table(
        f"stamped_{secrets.token_hex(4)}",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    with db.engine.begin() as connection:
        table.create(connection)
    yield table
    db.session.remove()
    with db.engine.begin() as connection:
        table.drop(connection)


def test_a_time_comes_back_aware_in_utc_to_the_microsecond(stamped: sa.Table) -> None:
    # given a time in another zone, with microseconds
    paris = timezone(timedelta(hours=1))
    written = datetime(2026, 11, 26, 21, 30, 15, 123456, tzinfo=paris)

    # when it is stored and read back
    with db.engine.begin() as connection:
        connection.execute(sa.insert(stamped).values(id=1, at=written))
    with db.engine.connect() as connection:
        read = connection.scalar(sa.select(stamped.c.at))

    # then it is the same instant, in UTC, with nothing lost
    assert read == datetime(2026, 11, 26, 20, 30, 15, 123456, tzinfo=UTC)
    assert read.tzinfo == UTC


def test_a_naive_time_is_refused(stamped: sa.Table) -> None:
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), db.engine.begin() as conn:
        conn.execute(sa.insert(stamped).values(id=1, at=datetime(2026, 1, 1)))
