"""The payments migration makes exactly the payments models' tables, on every database."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask

import funnel.payments.gateways.test.sandbox
import funnel.payments.models  # noqa: F401
from funnel.extensions import db

PAYMENT_TABLES = {
    "payments",
    "payment_transactions",
    "payment_events",
    "webhook_events",
    "test_gateway_charges",
    "test_gateway_operations",
    "test_gateway_webhooks",
}


def test_the_migrated_payments_schema_matches_the_models(app: Flask) -> None:
    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        if type_ == "schema":
            return True
        if type_ == "table":
            return name in PAYMENT_TABLES
        return parent_names.get("table_name") in PAYMENT_TABLES

    def include_object(item: Any, name: str | None, type_: str, *_: Any) -> bool:
        table = item if type_ == "table" else getattr(item, "table", None)
        return getattr(table, "name", None) in PAYMENT_TABLES

    options = dict(app.extensions["migrate"].configure_args)
    options["include_name"] = include_name
    options["include_object"] = include_object
    with db.engine.connect() as connection:
        assert set(sa.inspect(connection).get_table_names()) >= PAYMENT_TABLES
        context = MigrationContext.configure(connection, opts=options)
        differences = compare_metadata(context, db.metadata)

    assert differences == []
