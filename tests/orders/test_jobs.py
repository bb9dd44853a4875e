"""The hourly job that cancels orders whose bank transfer never came."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from funnel.accounts.models import User
from funnel.catalog.models import Variant
from funnel.core import clock
from funnel.extensions import db
from funnel.inventory import queries as inventory_queries
from funnel.orders import queries, services, tasks
from funnel.orders.models import OrderStatus
from funnel.payments import queries as payment_queries
from funnel.payments.models import PaymentStatus
from tests.factories.inventory import stocked_variant
from tests.factories.orders import place, start_bank_transfer
from tests.support.mailbox import Mailbox

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch):
    """``frozen_clock.now`` is the time everyone reads; tests move it."""

    class Clock:
        now = START

    monkeypatch.setattr(clock, "utcnow", lambda: Clock.now)
    return Clock


def stock(variant: Variant) -> int:
    return db.session.scalar(select(Variant.stock_quantity).where(Variant.id == variant.id))


@pytest.mark.story("US-22", "US-49")
def test_an_unpaid_bank_transfer_order_is_cancelled_after_the_deadline(
    app: Flask, frozen_clock, staff_user: User, mailbox: Mailbox
) -> None:
    # given, on day 0, an order awaiting a bank transfer, one paid by transfer, and on day 5
    # another one awaiting its transfer
    variant = stocked_variant(20)
    overdue = place([(variant, 3)], gateway="manual", email="late@example.com")
    overdue_payment = start_bank_transfer(overdue)
    paid = place([(variant, 1)], gateway="manual", email="paid@example.com")
    start_bank_transfer(paid)
    services.record_manual_payment(paid.number, actor_user_id=staff_user.id)
    frozen_clock.now = START + timedelta(days=5)
    recent = place([(variant, 2)], gateway="manual", email="recent@example.com")
    start_bank_transfer(recent)
    assert stock(variant) == 14
    mailbox.clear()

    # when the job runs on day 7 plus a minute
    frozen_clock.now = START + timedelta(days=7, minutes=1)
    cancelled = tasks.cancel_overdue_manual_orders.delay().get()

    # then only the overdue order is cancelled: payment voided, stock back, customer told
    assert cancelled == 1
    assert queries.get_order(overdue.number).status == OrderStatus.CANCELLED
    assert queries.get_order(overdue.number).cancelled_at == frozen_clock.now
    assert queries.get_order(paid.number).status == OrderStatus.PAID
    assert queries.get_order(recent.number).status == OrderStatus.PENDING_PAYMENT
    payment = payment_queries.get_payment(overdue_payment.payment_id)
    assert payment.status == PaymentStatus.CANCELLED
    assert stock(variant) == 17
    assert inventory_queries.ledger_discrepancies() == []
    [event] = queries.order_events(overdue)[-1:]
    assert (event.to_status, event.actor_user_id, event.note) == (
        "cancelled",
        None,
        "Bank transfer not received within 7 days",
    )
    [message] = mailbox
    assert (message["To"], message["Subject"]) == (
        "late@example.com",
        f"Order {overdue.number} cancelled",
    )

    # and running it again an hour later changes nothing
    frozen_clock.now += timedelta(hours=1)
    assert services.cancel_overdue_manual_orders() == 0
    assert stock(variant) == 17


@pytest.mark.story("US-22")
@pytest.mark.config(MANUAL_PAYMENT_DAYS=2)
def test_the_deadline_is_a_setting(app: Flask, frozen_clock) -> None:
    order = place(gateway="manual")
    start_bank_transfer(order)

    frozen_clock.now = START + timedelta(days=1, hours=23)
    assert services.cancel_overdue_manual_orders() == 0
    frozen_clock.now = START + timedelta(days=2, minutes=1)
    assert services.cancel_overdue_manual_orders() == 1

    assert queries.get_order(order.number).status == OrderStatus.CANCELLED


@pytest.mark.story("US-49")
def test_the_job_runs_hourly(app: Flask) -> None:
    [entry] = tasks.BEAT_SCHEDULE.values()

    assert entry == {"task": tasks.CANCEL_OVERDUE_MANUAL_ORDERS, "schedule": 3600.0}
    assert tasks.cancel_overdue_manual_orders.name == tasks.CANCEL_OVERDUE_MANUAL_ORDERS
