"""Full refunds of one order sent at once, each with its own key, against gunicorn on every
database: one refunds the order, every other answers the one documented code for "nothing left
to refund" (409 ``nothing_left_to_refund``), however it met the first one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from funnel.accounts.models import Role
from funnel.extensions import db
from funnel.orders.models import OrderStatus
from funnel.orders.queries import get_order
from funnel.payments import queries as payment_queries
from funnel.payments.models import PaymentTransaction, TransactionKind
from tests.checkout.test_api_concurrency import call
from tests.factories.accounts import UserFactory
from tests.factories.orders import pay_by_card, place
from tests.support.api import live_token
from tests.support.live_server import LiveServer
from tests.support.shops import shop_on

pytestmark = pytest.mark.story("US-32")

CALLERS = 6


def admin_token() -> str:
    """A live API token of a new admin."""
    admin = UserFactory(email="refunds@example.com", role=Role.ADMIN, is_email_verified=True)
    return live_token(admin, days=1, name="refunds")


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def shop(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[LiveServer, Flask]]:
    """A gunicorn shop with 4 workers and a gateway slow enough for the refunds to overlap."""
    latency = {"FUNNEL_TEST_GATEWAY_LATENCY_MS": "300"}
    with shop_on(request.param, tmp_path, settings=latency, workers=4) as running:
        yield running


def test_full_refunds_sent_at_once_refund_once_and_the_rest_say_nothing_is_left(
    shop: tuple[LiveServer, Flask],
) -> None:
    # given a paid order ($28.00) and an admin's token
    server, app = shop
    with app.app_context():
        order = place()
        pay_by_card(order)
        number = order.number
        token = admin_token()
    path = f"/api/v1/staff/orders/{number}/refunds"
    barrier = threading.Barrier(CALLERS)
    answers: list[Any] = [None] * CALLERS

    def refund(index: int) -> None:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"all-{index}"}
        barrier.wait(timeout=30)
        answers[index] = call(server.base_url, "POST", path, {"reason": "race"}, headers)

    # when six admins refund it in full at the same moment, each with a key of their own
    threads = [threading.Thread(target=refund, args=(index,)) for index in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then one refunds $28.00 and every other is 409 nothing_left_to_refund
    statuses = sorted(answer[0] for answer in answers)
    print(f"\nfull refunds x{CALLERS} at once: {statuses}")
    assert statuses == [201] + [409] * (CALLERS - 1)
    [refunded] = [answer[2] for answer in answers if answer[0] == 201]
    assert refunded["refund"]["amount"] == {"amount": 2800, "currency": "USD"}
    codes = [answer[2]["code"] for answer in answers if answer[0] == 409]
    assert codes == ["nothing_left_to_refund"] * (CALLERS - 1)
    with app.app_context():
        payment = payment_queries.live_payment_for(number)
        assert (payment.refunded_minor, payment.refund_pending_minor) == (2800, 0)
        refunds = db.session.scalars(
            select(PaymentTransaction.amount_minor).where(
                PaymentTransaction.payment_id == payment.id,
                PaymentTransaction.kind == TransactionKind.REFUND,
            )
        ).all()
        assert refunds == [2800]
        assert get_order(number).status == OrderStatus.REFUNDED
