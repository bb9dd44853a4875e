"""A bank transfer recorded by several callers at once, against gunicorn on every database:
the same partial payment sent six times with one Idempotency-Key is recorded once, and six
"paid in full" clicks with keys of their own pay the order once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from funnel.accounts.models import Role
from funnel.orders import queries
from funnel.orders.models import OrderStatus
from funnel.payments import queries as payment_queries
from tests.checkout.test_api_concurrency import call
from tests.factories.accounts import UserFactory
from tests.factories.orders import place, start_bank_transfer
from tests.support.api import live_token
from tests.support.live_server import LiveServer
from tests.support.shops import shop_on

pytestmark = pytest.mark.story("US-31")

CALLERS = 6


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def shop(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[LiveServer, Flask]]:
    with shop_on(request.param, tmp_path, workers=4) as running:
        yield running


def _at_once(server: LiveServer, path: str, bodies_and_headers: list[tuple[Any, Any]]) -> list:
    barrier = threading.Barrier(len(bodies_and_headers))
    answers: list[Any] = [None] * len(bodies_and_headers)

    def send(index: int) -> None:
        body, headers = bodies_and_headers[index]
        barrier.wait(timeout=30)
        answers[index] = call(server.base_url, "POST", path, body, headers)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(answers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def _order_awaiting_transfer(app: Flask) -> tuple[str, int, str]:
    with app.app_context():
        order = place(gateway="manual")
        transfer = start_bank_transfer(order)
        staff = UserFactory(email="books@example.com", role=Role.STAFF, is_email_verified=True)
        return order.number, transfer.payment_id, live_token(staff, days=1, name="books")


def test_a_double_submit_of_a_partial_payment_records_it_once(
    shop: tuple[LiveServer, Flask],
) -> None:
    server, app = shop
    number, payment_id, token = _order_awaiting_transfer(app)
    body = {"to": "paid", "amount_received": {"amount": 1000, "currency": "USD"}, "partial": True}
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "one-transfer-part"}

    answers = _at_once(
        server, f"/api/v1/staff/orders/{number}/transitions", [(body, headers)] * CALLERS
    )

    statuses = sorted(answer[0] for answer in answers)
    assert set(statuses) <= {200, 409}
    assert 200 in statuses
    with app.app_context():
        assert payment_queries.get_payment(payment_id).received_minor == 1000
        assert len(payment_queries.bank_transfer_receipts(payment_id)) == 1
        assert queries.get_order(number).status == OrderStatus.PENDING_PAYMENT


def test_paid_in_full_clicked_at_once_pays_the_order_once(
    shop: tuple[LiveServer, Flask],
) -> None:
    server, app = shop
    number, payment_id, token = _order_awaiting_transfer(app)
    requests = [
        ({"to": "paid"}, {"Authorization": f"Bearer {token}", "Idempotency-Key": f"click-{i}"})
        for i in range(CALLERS)
    ]

    answers = _at_once(server, f"/api/v1/staff/orders/{number}/transitions", requests)

    assert sorted(answer[0] for answer in answers) == [200] * CALLERS
    assert sorted(answer[2]["changed"] for answer in answers) == [False] * (CALLERS - 1) + [True]
    with app.app_context():
        assert payment_queries.get_payment(payment_id).received_minor == 2800
        assert len(payment_queries.bank_transfer_receipts(payment_id)) == 1
        order = queries.get_order(number)
        assert order.status == OrderStatus.PAID
        assert len(queries.order_events(order)) == 2
