"""The schema is made only by the migrations, and on every database it matches the models.

Autogenerate's comparison must find nothing, except the full-text search objects the catalogue
migration creates by hand for each database. Those are not in the models' metadata (no model can
describe them), so they are ignored by exact name, per dialect, and each test first checks that
they really exist, so that the ignore list cannot silently outlive them:

- SQLite: the FTS5 virtual tables ``products_fts`` and ``search_terms_fts`` and the shadow
  tables FTS5 makes for them (``_data``, ``_idx``, ``_docsize``, ``_config``; no ``_content``:
  they are external-content tables over ``products`` and ``search_terms``). Their triggers
  are not compared by Alembic at all.
- PostgreSQL: the products' stored generated column ``search_vector``, its GIN index
  ``ix_products_search_vector``, and the ``pg_trgm`` GiST index ``ix_search_terms_term_trgm``.
- MariaDB/MySQL: the FULLTEXT indexes ``ix_products_search_document_fulltext`` and
  ``ix_search_terms_trigrams_fulltext``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade

from funnel import create_app
from funnel.extensions import db
from tests.conftest import missing_service
from tests.support.databases import DatabaseProvider

pytestmark = pytest.mark.story("US-16")

SEARCH_OBJECTS: dict[str, dict[str, frozenset[str]]] = {
    "sqlite": {
        "table": frozenset(
            f"{table}{shadow}"
            for table in ("products_fts", "search_terms_fts")
            for shadow in ("", "_data", "_idx", "_docsize", "_config")
        ),
        "index": frozenset(),
        "column": frozenset(),
    },
    "postgresql": {
        "table": frozenset(),
        "index": frozenset({"ix_products_search_vector", "ix_search_terms_term_trgm"}),
        "column": frozenset({"search_vector"}),
    },
    "mysql": {
        "table": frozenset(),
        "index": frozenset(
            {"ix_products_search_document_fulltext", "ix_search_terms_trigrams_fulltext"}
        ),
        "column": frozenset(),
    },
}
# MariaDB reports itself as the "mysql" dialect through PyMySQL.
SEARCH_OBJECTS["mariadb"] = SEARCH_OBJECTS["mysql"]


def schema_differences(app: Flask, connection: sa.Connection) -> list[Any]:
    """Autogenerate's diff between the database and the models, with the project's options."""
    ignored = SEARCH_OBJECTS[connection.dialect.name]

    def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
        return name not in ignored.get(type_, frozenset())

    options = dict(app.extensions["migrate"].configure_args)
    options["include_name"] = include_name
    context = MigrationContext.configure(connection, opts=options)
    return compare_metadata(context, db.metadata)


def search_objects_present(connection: sa.Connection) -> dict[str, set[str]]:
    """The search objects of this dialect that the database holds."""
    expected = SEARCH_OBJECTS[connection.dialect.name]
    inspector = sa.inspect(connection)
    tables = set(inspector.get_table_names()) & expected["table"]
    indexes = {
        index["name"]
        for table in ("products", "search_terms")
        for index in inspector.get_indexes(table)
    } & expected["index"]
    columns = {column["name"] for column in inspector.get_columns("products")} & expected["column"]
    return {"table": tables, "index": indexes, "column": columns}


def test_the_migrated_schema_matches_the_models(app: Flask) -> None:
    # given a database migrated to heads (the app fixture), on each backend
    with db.engine.connect() as connection:
        # then the hand-made search objects are there (so ignoring them hides nothing else)
        expected = SEARCH_OBJECTS[connection.dialect.name]
        assert search_objects_present(connection) == {
            "table": set(expected["table"]),
            "index": set(expected["index"]),
            "column": set(expected["column"]),
        }

        # when the schema is compared with the models
        differences = schema_differences(app, connection)

    # then autogenerate finds nothing to do
    assert differences == []


def test_the_migrations_define_every_table_of_the_models(app: Flask) -> None:
    with db.engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
        ignored = SEARCH_OBJECTS[connection.dialect.name]["table"]

    assert tables - ignored == set(db.metadata.tables) | {"alembic_version"}


@pytest.fixture
def scratch_sqlite_app(tmp_path: Path) -> Iterator[Flask]:
    """An app on a SQLite database of its own, not migrated yet (not the shared test one)."""
    application = create_app(
        {
            "TESTING": True,
            "FUNNEL_ENV": "test",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrations.db'}",
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
            "MEDIA_ROOT": str(tmp_path / "media"),
        }
    )
    with application.app_context():
        try:
            yield application
        finally:
            db.session.remove()
            db.engine.dispose()


def head_revisions(app: Flask) -> set[str]:
    return set(ScriptDirectory(app.extensions["migrate"].directory).get_heads())


def current_revisions(connection: sa.Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


def test_sqlite_downgrades_to_base_and_upgrades_again(scratch_sqlite_app: Flask) -> None:
    # given a scratch SQLite database migrated to every head
    app = scratch_sqlite_app
    directory = app.extensions["migrate"].directory
    upgrade(directory=directory, revision="heads")
    with db.engine.connect() as connection:
        assert current_revisions(connection) == head_revisions(app)

    # when it is downgraded to base
    downgrade(directory=directory, revision="base")

    # then only Alembic's (empty) version table is left
    with db.engine.connect() as connection:
        assert set(sa.inspect(connection).get_table_names()) == {"alembic_version"}
        assert current_revisions(connection) == set()

    # when it is upgraded again
    upgrade(directory=directory, revision="heads")

    # then it is at every head again, with the search objects, and matches the models
    with db.engine.connect() as connection:
        assert current_revisions(connection) == head_revisions(app)
        assert search_objects_present(connection) == {
            "table": set(SEARCH_OBJECTS["sqlite"]["table"]),
            "index": set(),
            "column": set(),
        }
        assert schema_differences(app, connection) == []


def test_db_upgrade_creates_a_new_instance_folder_and_migrates_its_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an instance folder that does not exist yet, with the default SQLite database in it
    # (a secret key is given, so nothing else creates the folder first)
    instance = tmp_path / "new" / "instance"
    monkeypatch.setenv("FUNNEL_INSTANCE_PATH", str(instance))
    monkeypatch.delenv("FUNNEL_DATABASE_URL", raising=False)
    app = create_app({"TESTING": True, "SECRET_KEY": secrets.token_urlsafe(32)})

    # when the operator runs `flask --app funnel db upgrade`
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])

    # then the folder and the database exist, migrated to every head
    try:
        assert result.exit_code == 0, result.output
        assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'funnel.db'}"
        assert (instance / "funnel.db").is_file()
        with app.app_context(), db.engine.connect() as connection:
            assert current_revisions(connection) == head_revisions(app)
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.story("US-16")
@pytest.mark.parametrize(
    ("scheme", "backend", "driver"),
    [
        ("postgresql", "postgresql", "psycopg"),
        ("postgres", "postgresql", "psycopg"),
        ("mysql", "mysql", "pymysql"),
        ("mariadb", "mysql", "pymysql"),
    ],
)
def test_the_shop_starts_and_connects_with_the_url_form_hosts_give(
    database_provider: DatabaseProvider,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scheme: str,
    backend: str,
    driver: str,
) -> None:
    # given FUNNEL_DATABASE_URL as a host hands it out: no driver in the scheme
    url = database_provider.url_for(backend)
    if url is None:
        missing_service(database_provider.missing_reason(backend))
    monkeypatch.setenv("FUNNEL_DATABASE_URL", f"{scheme}://{url.partition('://')[2]}")
    monkeypatch.setenv("FUNNEL_INSTANCE_PATH", str(tmp_path))

    # when the shop starts
    app = create_app({"TESTING": True, "SECRET_KEY": secrets.token_urlsafe(32)})

    # then it uses the installed driver and reaches the database
    with app.app_context():
        try:
            assert db.engine.dialect.driver == driver
            with db.engine.connect() as connection:
                assert connection.execute(sa.text("SELECT 1")).scalar_one() == 1
        finally:
            db.engine.dispose()
