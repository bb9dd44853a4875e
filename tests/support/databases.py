"""Test databases: one per backend per run, with its own name so that runs never collide.

Every test starts on empty tables. Instead of deleting from every table after each test, the
tables a test wrote are noted (``WrittenTables``, from the SQL any engine of this process sends)
and only those are emptied.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy.engine import Engine, make_url

from funnel.config import with_installed_driver
from funnel.extensions import db

BACKENDS = ("sqlite", "postgresql", "mysql")
_ENVIRONMENT = {"postgresql": "FUNNEL_TEST_POSTGRES_URL", "mysql": "FUNNEL_TEST_MYSQL_URL"}


class DatabaseProvider:
    """Creates (lazily), migrates once, empties between tests and drops the test databases."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.run_id = secrets.token_hex(4)
        self.urls: dict[str, str | None] = {}
        self.reasons: dict[str, str] = {}
        self.migrated: set[str] = set()

    def url_for(self, backend: str) -> str | None:
        if backend not in self.urls:
            self.urls[backend] = self._create(backend)
        return self.urls[backend]

    def missing_reason(self, backend: str) -> str:
        return self.reasons.get(backend, f"{backend} is not available")

    def _create(self, backend: str) -> str | None:
        if backend == "sqlite":
            return f"sqlite:///{self.directory / 'funnel-test.db'}"
        variable = _ENVIRONMENT[backend]
        base = os.environ.get(variable)
        if not base:
            self.reasons[backend] = f"{backend} tests need {variable}"
            return None
        url = make_url(with_installed_driver(base))
        name = f"funnel_test_{self.run_id}"
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                if backend == "mysql":
                    connection.exec_driver_sql(
                        f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                    )
                else:
                    connection.exec_driver_sql(f"CREATE DATABASE {name}")
                    # A crash may lose the last commits of a test database: nothing to keep.
                    connection.exec_driver_sql(
                        f"ALTER DATABASE {name} SET synchronous_commit = off"
                    )
        except sa.exc.OperationalError as error:
            self.reasons[backend] = f"{backend} is not reachable at {variable}: {error.orig}"
            return None
        finally:
            admin.dispose()
        url = url.set(database=name)
        if backend == "mysql":
            url = url.update_query_dict({"charset": "utf8mb4"})
        return url.render_as_string(hide_password=False)

    def ensure_migrated(self, backend: str, app: Flask) -> None:
        if backend not in self.migrated:
            upgrade(directory=app.extensions["migrate"].directory, revision="heads")
            self.migrated.add(backend)

    def empty(self, backend: str, engine: Engine, names: set[str] | None = None) -> None:
        """Delete every row of the tables named (all when None), children first, keeping the
        migrated schema."""
        tables = [
            table
            for table in reversed(db.metadata.sorted_tables)
            if names is None or table.name.lower() in names
        ]
        if not tables:
            return
        with engine.begin() as connection:
            if backend == "mysql":
                connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
            try:
                for table in tables:
                    connection.execute(table.delete())
            finally:
                if backend == "mysql":  # the connection goes back to the pool: as it was
                    connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")

    def tables_with_rows(self, engine: Engine) -> list[str]:
        """The tables that hold a row (a check of the write tracking: none after a reset)."""
        with engine.connect() as connection:
            return [
                table.name
                for table in db.metadata.sorted_tables
                if connection.execute(sa.select(table).limit(1)).first() is not None
            ]

    def drop_all(self) -> None:
        for backend, url in self.urls.items():
            if url is None or backend == "sqlite":
                continue
            database = make_url(url).database
            admin = sa.create_engine(
                make_url(url).set(database=_admin_database(backend)), isolation_level="AUTOCOMMIT"
            )
            with admin.connect() as connection:
                force = " WITH (FORCE)" if backend == "postgresql" else ""
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {database}{force}")
            admin.dispose()


# The table a data-changing statement writes (the ORM's and Core's INSERT, UPDATE and DELETE,
# and the upserts tests or services spell by hand); anything else that may write is "every table".
_WRITE = re.compile(
    r"\s*(?:INSERT\s+(?:IGNORE\s+|OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM)"
    r"\s+[`\"]?(\w+)",
    re.IGNORECASE,
)
_MAY_WRITE = re.compile(
    r"\s*(?:INSERT|UPDATE|DELETE|REPLACE|MERGE|TRUNCATE|COPY|CALL|DO|LOAD)\b", re.IGNORECASE
)
_CTE_WRITE = re.compile(
    r"\s*WITH\b.*\b(?:INSERT\s+INTO|DELETE\s+FROM|UPDATE\s+\S+\s+SET)\b",
    re.IGNORECASE | re.DOTALL,
)


class WrittenTables:
    """The tables written by any engine of this process while ``watch()`` is open; ``None``
    when a statement could have written any table (then every table is emptied)."""

    def __init__(self) -> None:
        self.names: set[str] | None = set()

    @contextmanager
    def watch(self) -> Iterator[None]:
        sa.event.listen(Engine, "before_cursor_execute", self._note)
        try:
            yield
        finally:
            sa.event.remove(Engine, "before_cursor_execute", self._note)

    def _note(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.names is None:
            return
        written = _WRITE.match(statement)
        if written:
            self.names.add(written.group(1).lower())
        elif _MAY_WRITE.match(statement) or _CTE_WRITE.match(statement):
            self.names = None


def _admin_database(backend: str) -> str:
    base = make_url(os.environ[_ENVIRONMENT[backend]])
    return base.database or ("postgres" if backend == "postgresql" else "mysql")


@contextmanager
def scratch_database(backend: str, directory: Path) -> Iterator[str | None]:
    """A new, empty database of ``backend`` for one test (not the run's shared one), dropped
    afterwards; None when the backend is not configured or not reachable."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / f'scratch-{secrets.token_hex(4)}.db'}"
        return
    base = os.environ.get(_ENVIRONMENT[backend])
    if not base:
        yield None
        return
    url = make_url(with_installed_driver(base))
    name = f"funnel_scratch_{secrets.token_hex(4)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            suffix = (
                " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" if backend == "mysql" else ""
            )
            connection.exec_driver_sql(f"CREATE DATABASE {name}{suffix}")
    except sa.exc.OperationalError:
        admin.dispose()
        yield None
        return
    scratch = url.set(database=name)
    if backend == "mysql":
        scratch = scratch.update_query_dict({"charset": "utf8mb4"})
    try:
        yield scratch.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            force = " WITH (FORCE)" if backend == "postgresql" else ""
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{force}")
        admin.dispose()
