"""The demo shop's past (``flask demo --events N --orders M``): exactly the events and paid
orders asked for, over the days asked for and none after now, consistent with each other as the
reports read them, and loaded once."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from flask import Flask

from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.core import clock
from funnel.extensions import db
from funnel.orders.models import Order, OrderLine
from funnel.payments.models import Payment, PaymentTransaction
from funnel.reports.buckets import Grouping
from funnel.reports.queries import funnel_report, product_report, sales_report

pytestmark = [pytest.mark.story("US-64"), pytest.mark.config(CURRENCY="GBP")]
NOW = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)


def run_demo(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["demo", *args])
    db.session.remove()
    assert result.exit_code == 0, result.output
    return result.output


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_the_demo_writes_the_past_asked_for_once(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)

    output = run_demo(
        app, "--products", "30", "--events", "4000", "--orders", "300", "--days", "60"
    )

    assert "Demo history: 4000 funnel events and 300 paid orders." in output
    assert (count(FunnelEvent), count(Order)) == (4000, 300)
    first, last = db.session.execute(
        sa.select(sa.func.min(FunnelEvent.occurred_at), sa.func.max(FunnelEvent.occurred_at))
    ).one()
    paid_first, paid_last = db.session.execute(
        sa.select(sa.func.min(Order.paid_at), sa.func.max(Order.paid_at))
    ).one()
    start = datetime(2026, 10, 2, tzinfo=UTC)  # 60 days, today included
    assert start <= first <= last <= NOW
    assert start <= paid_first <= paid_last <= NOW
    # each order's lines add up to its subtotal
    mismatched = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Order)
        .where(
            Order.subtotal_minor
            != sa.select(sa.func.sum(OrderLine.line_total_minor))
            .where(OrderLine.order_id == Order.id)
            .scalar_subquery()
        )
    )
    assert mismatched == 0

    # the reports read a funnel that narrows, and sales that match the orders
    funnel = funnel_report(date(2026, 10, 2), date(2026, 11, 30), "UTC")
    visitors = [row.visitors for row in funnel.stages]
    assert visitors == sorted(visitors, reverse=True)
    assert 0 < visitors[-1] <= 300
    paying_orders = db.session.scalar(
        sa.select(sa.func.count()).select_from(Order).where(Order.visitor_id.is_not(None))
    )
    paid_events = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(FunnelEvent)
        .where(FunnelEvent.stage == FunnelStage.ORDER_PAID)
    )
    assert paying_orders == paid_events  # each paying journey is one order's visitor
    sales = sales_report(date(2026, 10, 2), date(2026, 11, 30), Grouping.WEEK, "UTC", "GBP")
    (gbp,) = sales.currencies
    assert gbp.total.orders == 300
    assert gbp.total.gross_minor == db.session.scalar(sa.select(sa.func.sum(Order.total_minor)))
    refunds = db.session.scalar(sa.select(sa.func.sum(PaymentTransaction.amount_minor))) or 0
    assert gbp.total.refunds_minor == refunds
    products = product_report(date(2026, 10, 2), date(2026, 11, 30), "UTC", "GBP")
    assert sum(row.units for row in products.products) == gbp.total.units
    assert any(row.buyers_who_viewed for row in products.products)

    # a second run adds nothing
    again = run_demo(app, "--products", "30", "--events", "4000", "--orders", "300", "--days", "60")
    assert "Demo history: there already; nothing added." in again
    assert (count(FunnelEvent), count(Order)) == (4000, 300)


def past() -> list[tuple[object, ...]]:
    orders = db.session.execute(
        sa.select(Order.number, Order.total_minor, Order.paid_at, Order.visitor_id).order_by(
            Order.number
        )
    ).all()
    events = db.session.execute(
        sa.select(FunnelEvent.stage, FunnelEvent.visitor_id, FunnelEvent.occurred_at).order_by(
            FunnelEvent.occurred_at, FunnelEvent.visitor_id, FunnelEvent.stage
        )
    ).all()
    return [tuple(row) for row in [*orders, *events]]


def test_the_past_is_the_same_on_every_run(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    run_demo(app, "--products", "10", "--events", "500", "--orders", "40", "--days", "10")
    first = past()
    # when the past is taken away and loaded again on the same catalogue
    for model in (PaymentTransaction, Payment, OrderLine, Order, FunnelEvent):
        db.session.execute(sa.delete(model))
    db.session.commit()
    run_demo(app, "--products", "10", "--events", "500", "--orders", "40", "--days", "10")

    # then it is the same past, order for order and event for event
    assert len(first) == 540
    assert past() == first


def test_a_past_needs_a_catalogue(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "--products", "0", "--orders", "5"])

    assert result.exit_code == 1
    assert "The catalogue is empty: load the demo products first." in result.output
    assert count(Order) == 0
