"""Upgrades and downgrades on each database, with a shop's data in it (US-55).

Two promises, each on SQLite, PostgreSQL and MariaDB:

- an empty database goes to head, down to base and back to head, and then matches the models;
- a shop's rows (a customer, products with variants and stock, a paid and delivered order with
  its lines and payment, a refund, a return request, funnel events, settings) survive the newest
  migrations being undone step by step and done again. A downgrade that drops a table loses
  that table's rows, and one that drops a column loses that column (that is what undoing the
  migration means, and why the runbook says to back up first): every other value of every row
  must come back unchanged, and the test names exactly what the downgrades lose;
- a database of the previous release holding the demo shop upgrades with ``flask db upgrade``
  keeping every row, and the shop is then ready and serves its pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade

from funnel.accounts.models import Role
from funnel.accounts.permissions import settings_editor
from funnel.analytics import services as analytics
from funnel.analytics.models import FunnelStage
from funnel.analytics.sources import VisitSource
from funnel.extensions import db
from funnel.orders import services as orders
from funnel.orders.models import OrderLine
from funnel.settings.services import update_settings
from tests.conftest import build_app, missing_service
from tests.core.test_migrations import current_revisions, head_revisions, schema_differences
from tests.factories.accounts import UserFactory
from tests.factories.inventory import stocked_variant
from tests.factories.orders import pay_by_card, place
from tests.support.databases import BACKENDS, scratch_database
from tests.support.mailbox import SmtpServer

pytestmark = pytest.mark.story("US-55")

# Undone and done again with data present: the newest migrations, down to this revision.
LOWER_REVISION = "0023_search_index"
# What undoing them drops, and so loses: the funnel's daily summary's, the request counts', the
# reconciliation findings',
# the job outbox's, the catalogue version's, feedback's and return requests' tables, the visit
# sources' columns on funnel events, the bank-transfer receipts' columns on payments.
DROPPED_TABLES = {
    "catalogue_versions",
    "feedback",
    "funnel_product_visitor_days",
    "funnel_summary_state",
    "funnel_visitor_days",
    "late_funnel_events",
    "order_returns",
    "order_return_lines",
    "pending_jobs",
    "reconciliation_findings",
    "request_minutes",
}
DROPPED_COLUMNS = {
    "funnel_events": {"source", "medium", "campaign", "landing_path", "device"},
    "payments": {"received_minor"},
    "payment_transactions": {"received_on"},
}

# Derived from a row's other columns, for search only, on one database (PostgreSQL's stored
# vector): left out of the rows and columns compared, like the search index's tables.
SEARCH_COLUMNS = frozenset({"search_vector"})

Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]


@pytest.fixture(params=BACKENDS)
def scratch_app(
    request: pytest.FixtureRequest, smtp_server: SmtpServer, tmp_path: Path
) -> Iterator[Flask]:
    """An app on a new, empty database of its own (the run's shared one stays at head)."""
    backend = request.param
    with scratch_database(backend, tmp_path) as url:
        if url is None:
            missing_service(f"{backend} is not configured or not reachable")
        application = build_app(url, smtp_server, {})
        application.config["MAIL_OUTBOX"] = str(tmp_path / "outbox")
        application.config["MEDIA_ROOT"] = str(tmp_path / "media")
        with application.app_context():
            try:
                yield application
            finally:
                db.session.remove()
                db.engine.dispose()


def directory(app: Flask) -> str:
    return app.extensions["migrate"].directory


def tables_in_database() -> set[str]:
    with db.engine.connect() as connection:
        return set(sa.inspect(connection).get_table_names())


def test_an_empty_database_goes_to_head_to_base_and_to_head_again(scratch_app: Flask) -> None:
    app = scratch_app
    upgrade(directory=directory(app), revision="heads")
    with db.engine.connect() as connection:
        assert current_revisions(connection) == head_revisions(app)

    downgrade(directory=directory(app), revision="base")
    assert tables_in_database() == {"alembic_version"}

    upgrade(directory=directory(app), revision="heads")
    with db.engine.connect() as connection:
        assert current_revisions(connection) == head_revisions(app)
        assert schema_differences(app, connection) == []


def load_a_shop() -> None:
    """One of each kind of row the shop keeps, made through the services."""
    customer = UserFactory(email="customer@example.com")
    admin = UserFactory(role=Role.ADMIN)
    update_settings(settings_editor(admin), {"shop_name": "Round Trip Shop"})
    analytics.record_visit(
        "visitor-1",
        source=VisitSource(
            source="newsletter", medium="email", campaign="spring", landing_path="/", device="phone"
        ),
    )
    shirt, mug = stocked_variant(10), stocked_variant(5)
    analytics.record_event(FunnelStage.PRODUCT_VIEW, "visitor-1", product_id=shirt.product_id)

    delivered = place([(shirt, 2), (mug, 1)], user_id=customer.id, visitor_id="visitor-1")
    pay_by_card(delivered)
    orders.fulfil_order(delivered.number, actor_user_id=admin.id)
    orders.mark_delivered(delivered.number, actor_user_id=admin.id)
    first_line = db.session.scalars(
        sa.select(OrderLine.id).where(OrderLine.order_id == delivered.id).order_by(OrderLine.id)
    ).first()
    assert first_line is not None
    orders.request_return(delivered.number, {first_line: 1}, reason="Too small")

    refunded = place([(mug, 1)], user_id=customer.id)
    pay_by_card(refunded)
    orders.refund_order(
        refunded.number, idempotency_key=f"{refunded.number}-refund", actor_user_id=admin.id
    )
    db.session.commit()


def every_row() -> Rows:
    """Every row of every table (Alembic's own and the search index's left out, and the search
    columns), by key."""
    rows: Rows = {}
    with db.engine.connect() as connection:
        metadata = sa.MetaData()
        metadata.reflect(connection)
        for table in metadata.sorted_tables:
            if table.name == "alembic_version" or table.name.endswith(
                ("_fts", "_fts_data", "_fts_idx", "_fts_docsize", "_fts_config")
            ):
                continue
            key = list(table.primary_key.columns) or list(table.columns)
            rows[table.name] = {
                tuple(row[column.name] for column in key): {
                    name: value for name, value in row.items() if name not in SEARCH_COLUMNS
                }
                for row in connection.execute(sa.select(table)).mappings()
            }
    return rows


def columns_by_table() -> dict[str, set[str]]:
    with db.engine.connect() as connection:
        inspector = sa.inspect(connection)
        return {
            table: {column["name"] for column in inspector.get_columns(table)} - SEARCH_COLUMNS
            for table in inspector.get_table_names()
            if table in every_table_name()
        }


def every_table_name() -> set[str]:
    return set(db.metadata.tables)


def without(rows: Rows, tables: set[str], columns: dict[str, set[str]]) -> Rows:
    """``rows`` with the tables and columns named left out."""
    return {
        table: {
            key: {name: value for name, value in row.items() if name not in columns.get(table, ())}
            for key, row in by_key.items()
        }
        for table, by_key in rows.items()
        if table not in tables
    }


def test_a_shops_rows_survive_undoing_and_redoing_the_newest_migrations(
    scratch_app: Flask,
) -> None:
    # given a database at head holding a shop's data of every kind
    app = scratch_app
    upgrade(directory=directory(app), revision="heads")
    load_a_shop()
    before = every_row()
    head_columns = columns_by_table()
    kinds = {
        "users", "products", "variants", "stock_movements", "orders", "order_lines",
        "payments", "payment_transactions", "order_refunds", "order_returns",
        "order_return_lines", "funnel_events", "shop_settings", "shop_setting_changes",
    }  # fmt: skip
    assert {table for table in kinds if not before.get(table)} == set()

    # when the newest migrations are undone one at a time, down to LOWER_REVISION
    scripts = ScriptDirectory(directory(app))
    steps = 0
    while True:
        with db.engine.connect() as connection:
            (current,) = current_revisions(connection)
        if current == LOWER_REVISION:
            break
        downgrade(directory=directory(app), revision="-1")
        steps += 1
        # then after each step every row of every table left is still there
        now = every_row()
        assert {table: set(now[table]) for table in now} == {
            table: set(before[table]) for table in now
        }
    assert steps == len(list(scripts.iterate_revisions("heads", LOWER_REVISION))) == 14

    # and exactly the tables and columns of the undone migrations are gone
    lower = every_row()
    assert set(before) - set(lower) == DROPPED_TABLES
    lower_columns = columns_by_table()
    assert {
        table: head_columns[table] - columns
        for table, columns in lower_columns.items()
        if head_columns[table] != columns
    } == DROPPED_COLUMNS
    assert lower == without(before, DROPPED_TABLES, DROPPED_COLUMNS)

    # when they are done again
    upgrade(directory=directory(app), revision="heads")

    # then every row is back, unchanged but for what the downgrades dropped
    after = every_row()
    assert without(after, DROPPED_TABLES, DROPPED_COLUMNS) == without(
        before, DROPPED_TABLES, DROPPED_COLUMNS
    )
    assert after["order_returns"] == {}
    with db.engine.connect() as connection:
        assert schema_differences(app, connection) == []


PREVIOUS_RELEASE = "0029_return_requests"


def test_a_previous_releases_database_with_demo_data_upgrades_and_the_shop_works(
    scratch_app: Flask,
) -> None:
    # given a database of the previous release (its newest migration), holding the demo shop
    # with a past of visits and paid orders
    # (loaded by this release's code, which writes the catalogue version, then taken back to
    # the previous release's schema)
    app = scratch_app
    upgrade(directory=directory(app), revision="heads")
    demo = app.test_cli_runner().invoke(
        args=["demo", "--products", "20", "--events", "300", "--orders", "15", "--days", "30"]
    )
    assert demo.exit_code == 0, demo.output
    db.session.remove()
    downgrade(directory=directory(app), revision=PREVIOUS_RELEASE)
    before = every_row()
    assert len(before["products"]) == 20
    assert len(before["orders"]) == 15

    # when the operator upgrades it, as the runbook says
    result = app.test_cli_runner().invoke(args=["db", "upgrade", "heads"])

    # then it is at head, every row is still there, and the shop is ready and serves its pages
    assert result.exit_code == 0, result.output
    with db.engine.connect() as connection:
        assert current_revisions(connection) == head_revisions(app)
    after = every_row()
    assert {table: rows for table, rows in after.items() if table in before} == before
    # the new release's tables, empty
    new_tables = {
        "catalogue_versions",
        "feedback",
        "funnel_product_visitor_days",
        "funnel_summary_state",
        "funnel_visitor_days",
        "late_funnel_events",
        "pending_jobs",
        "reconciliation_findings",
        "request_minutes",
    }
    assert set(after) - set(before) == new_tables
    assert all(after[table] == {} for table in new_tables - {"feedback"})
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    assert client.get("/").status_code == 200
    product = next(iter(after["products"].values()))
    assert client.get(f"/p/{product['slug']}").status_code == 200
    assert client.get("/search?q=shirt").status_code == 200
