"""The scratch database a bench serves its shop from: a SQLite file, or a PostgreSQL database
made on a server for the run and dropped after it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa


@contextmanager
def scratch_database(
    database: str, admin_url: str | None, size: int, folder: Path
) -> Iterator[str]:
    """A database URL for one shop: a SQLite file in ``folder``, or a PostgreSQL database made
    on ``admin_url``'s server and dropped afterwards."""
    if database == "sqlite":
        yield f"sqlite:///{folder / 'funnel.db'}"
        return
    import psycopg

    assert admin_url is not None
    url = sa.make_url(admin_url)
    name = f"funnel_bench_{os.getpid()}_{size}"
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(plain, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def analyze(url: str) -> None:
    """Statistics for PostgreSQL's planner, as autovacuum gathers them soon after a load: just
    after it, the planner takes the products table for a few rows and scans it whole (16 ms
    instead of 0.04 for the bare ``/list`` at 10,000 products)."""
    import psycopg

    plain = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute("ANALYZE")
