"""Test databases: one per backend per run, with its own name so that runs never collide."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

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

    def empty(self, backend: str, engine: Engine) -> None:
        """Delete every row of every table (children first), keeping the migrated schema."""
        with engine.begin() as connection:
            if backend == "mysql":
                connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
            if backend == "mysql":
                connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")

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


def _admin_database(backend: str) -> str:
    base = make_url(os.environ[_ENVIRONMENT[backend]])
    return base.database or ("postgres" if backend == "postgresql" else "mysql")
