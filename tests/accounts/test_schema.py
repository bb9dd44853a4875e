"""The accounts migration creates exactly the models' schema on every database."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from funnel.extensions import db

ACCOUNT_TABLES = {"users", "user_sessions", "password_reset_tokens", "addresses"}


def _table_of(difference: tuple) -> str | None:
    for item in difference if isinstance(difference, list) else [difference]:
        for part in item[1:]:
            name = getattr(part, "name", None)
            table = getattr(part, "table", None)
            if getattr(table, "name", None) in ACCOUNT_TABLES:
                return table.name
            if name in ACCOUNT_TABLES:
                return name
            if isinstance(part, str) and part in ACCOUNT_TABLES:
                return part
    return None


def test_migrated_account_tables_match_the_models(app: Flask) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)

    assert [d for d in differences if _table_of(d) is not None] == []


def test_foreign_keys_are_indexed_and_names_follow_the_convention(app: Flask) -> None:
    inspector = sa.inspect(db.engine)

    for table in ["user_sessions", "password_reset_tokens", "addresses"]:
        assert [fk["name"] for fk in inspector.get_foreign_keys(table)] == [
            f"fk_{table}_user_id_users"
        ]
        indexes = {index["name"]: index["column_names"] for index in inspector.get_indexes(table)}
        assert indexes[f"ix_{table}_user_id"] == ["user_id"]
    assert inspector.get_unique_constraints("users")[0]["name"] == "uq_users_email"
    assert [c["name"] for c in inspector.get_check_constraints("users")] == ["ck_users_role"]
    email = next(c for c in inspector.get_columns("users") if c["name"] == "email")
    assert email["type"].length == 254
