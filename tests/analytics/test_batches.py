"""Product views and adds to cart written in batches: the step answers with one write fewer,
and no event is lost (US-73). The suite's other tests write each at once
(``ANALYTICS_BATCH_MILLISECONDS=0``)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from funnel.analytics import batches
from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.cart.models import CartLine
from funnel.catalog.models import Product, Variant
from funnel.core import clock
from funnel.extensions import db
from tests.factories.inventory import stocked_variant

pytestmark = pytest.mark.story("US-73")

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
LONG = pytest.mark.config(ANALYTICS_BATCH_MILLISECONDS=10_000)  # never due within a test
SHORT = pytest.mark.config(ANALYTICS_BATCH_MILLISECONDS=100)


def views() -> list[tuple[str, int | None]]:
    db.session.close()
    rows = db.session.execute(
        select(FunnelEvent.visitor_id, FunnelEvent.product_id)
        .where(FunnelEvent.stage == "product_view")
        .order_by(FunnelEvent.id)
    )
    return [tuple(row) for row in rows]


def product_page(app: Flask) -> tuple[str, int]:
    variant = stocked_variant(3)
    product = db.session.get(Product, variant.product_id)
    assert product is not None
    return f"/p/{product.slug}", product.id


def browser(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = BROWSER
    return client


@LONG
def test_a_product_view_is_kept_until_its_batch_is_written(app: Flask) -> None:
    # given a shopper who opens a product page twice
    path, product_id = product_page(app)
    client = browser(app)
    assert client.get(path).status_code == 200
    assert client.get(path).status_code == 200
    visitor = client.get_cookie("funnel_visitor").value

    # then the views wait in the batch (the visit, once a day, is written at once)
    assert views() == []

    # when the batch is written (its time is up, or the worker stops)
    assert batches.write_batch(app) == 2

    # then both views are recorded once, with the visitor and the product
    assert views() == [(visitor, product_id), (visitor, product_id)]
    assert batches.write_batch(app) == 0


@SHORT
def test_the_process_writes_its_views_once_they_are_due_without_another_request(
    app: Flask,
) -> None:
    path, product_id = product_page(app)
    client = browser(app)
    client.get(path)
    visitor = client.get_cookie("funnel_visitor").value

    # the batch's thread writes within its 100 ms; wait for it (up to 10 s on a busy machine)
    for _attempt in range(100):
        if views():
            break
        time.sleep(0.1)

    assert views() == [(visitor, product_id)]


@LONG
def test_a_full_batch_is_written_at_once(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "BATCH_ROWS", 3)
    path, _product_id = product_page(app)
    client = browser(app)

    for _ in range(3):
        client.get(path)

    assert len(views()) == 3


@LONG
def test_views_of_a_failed_write_are_kept_and_written_once_later(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given two views kept, and a database that refuses the first write
    path, product_id = product_page(app)
    client = browser(app)
    client.get(path)
    client.get(path)
    real_insert = batches.insert_rows
    failures = [RuntimeError("the database is away")]

    def failing_insert(*args: Any) -> Any:
        if failures:
            raise failures.pop()
        return real_insert(*args)

    monkeypatch.setattr(batches, "insert_rows", failing_insert)

    # when the batch is written, fails, then is written again
    assert batches.write_batch(app) == 0
    assert views() == []
    assert batches.write_batch(app) == 2

    # then each view is recorded once
    assert [product for _visitor, product in views()] == [product_id, product_id]
    assert batches.write_batch(app) == 0


@LONG
def test_checkout_steps_and_visits_are_never_batched(app: Flask) -> None:
    # a visit is deduplicated per visitor and day: it is written in its request
    path, _product_id = product_page(app)
    client = browser(app)
    client.get(path)

    db.session.close()
    stages = db.session.scalars(select(FunnelEvent.stage)).all()
    assert [stage.value for stage in stages] == ["visit"]


@LONG
def test_an_add_to_cart_is_kept_with_the_views_and_written_once(app: Flask) -> None:
    # given a shopper who views a product and adds it to the cart through the form and the API
    path, product_id = product_page(app)
    variant_id = db.session.scalars(
        select(Variant.id).where(Variant.product_id == product_id)
    ).one()
    client = browser(app)
    client.get(path)
    visitor = client.get_cookie("funnel_visitor").value
    added = client.post("/cart/lines", data={"variant_id": str(variant_id), "quantity": "1"})
    assert added.status_code == 303

    # then the add waits in the batch with the view; the line itself is in the cart already
    db.session.close()
    assert [stage.value for stage in db.session.scalars(select(FunnelEvent.stage))] == ["visit"]
    assert db.session.execute(select(CartLine.variant_id, CartLine.quantity)).all() == [
        (variant_id, 1)
    ]

    # when the batch is written
    assert batches.write_batch(app) == 2

    # then the view and the add are recorded once each, with the visitor and the product
    db.session.close()
    rows = db.session.execute(
        select(FunnelEvent.stage, FunnelEvent.visitor_id, FunnelEvent.product_id)
        .where(FunnelEvent.stage != "visit")
        .order_by(FunnelEvent.id)
    ).all()
    assert [(stage.value, who, product) for stage, who, product in rows] == [
        ("product_view", visitor, product_id),
        ("add_to_cart", visitor, product_id),
    ]
    assert batches.write_batch(app) == 0


@LONG
def test_a_batched_view_keeps_the_moment_it_happened_and_its_stage(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a view at 09:30:15.250 UTC (on PostgreSQL the batch is written with COPY)
    viewed_at = datetime(2026, 3, 29, 9, 30, 15, 250_000, tzinfo=UTC)
    path, product_id = product_page(app)
    monkeypatch.setattr(clock, "utcnow", lambda: viewed_at)
    client = browser(app)
    client.get(path)
    visitor = client.get_cookie("funnel_visitor").value

    # when the batch is written a minute later
    monkeypatch.setattr(clock, "utcnow", lambda: viewed_at + timedelta(minutes=1))
    assert batches.write_batch(app) == 1

    # then the row holds the view's own time, its stage, visitor and product, and no source
    db.session.close()
    row = db.session.execute(
        select(
            FunnelEvent.stage,
            FunnelEvent.visitor_id,
            FunnelEvent.product_id,
            FunnelEvent.user_id,
            FunnelEvent.occurred_at,
            FunnelEvent.source,
        ).where(FunnelEvent.stage == "product_view")
    ).one()
    assert tuple(row) == (FunnelStage.PRODUCT_VIEW, visitor, product_id, None, viewed_at, None)
