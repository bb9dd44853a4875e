"""Refunds of the same line sent at once, each with its own key, against gunicorn on every
database: one refunds the line, every other is 422 ``refund_exceeds_order`` (the line's units
are taken), and the payment and the stock move once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from funnel.extensions import db
from funnel.inventory import queries as inventory_queries
from funnel.orders.models import OrderStatus, Refund, RefundLine
from funnel.orders.queries import get_order, order_lines
from funnel.payments import queries as payment_queries
from tests.checkout.test_api_concurrency import call
from tests.factories.inventory import stocked_variant
from tests.factories.orders import pay_by_card, place
from tests.orders.test_api_refund_concurrency import admin_token
from tests.support.live_server import LiveServer
from tests.support.shops import shop_on

pytestmark = pytest.mark.story("US-32")

CALLERS = 10


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def shop(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[LiveServer, Flask]]:
    """A gunicorn shop with 4 workers and a gateway slow enough for the refunds to overlap."""
    latency = {"FUNNEL_TEST_GATEWAY_LATENCY_MS": "300"}
    with shop_on(request.param, tmp_path, settings=latency, workers=4) as running:
        yield running


def test_ten_refunds_of_the_same_line_at_once_make_one_refund(
    shop: tuple[LiveServer, Flask],
) -> None:
    # given a paid order of 2 x A and 1 x B ($38.00) and an admin's token
    server, app = shop
    with app.app_context():
        variant_a, variant_b = stocked_variant(10), stocked_variant(10)
        order = place([(variant_a, 2), (variant_b, 1)])
        pay_by_card(order)
        number, line_a = order.number, order_lines(order)[0].id
        variant_ids = (variant_a.id, variant_b.id)
        token = admin_token()
    path = f"/api/v1/staff/orders/{number}/refunds"
    body = {"lines": [{"order_line_id": line_a, "quantity": 2, "restock": True}]}
    barrier = threading.Barrier(CALLERS)
    answers: list[Any] = [None] * CALLERS

    def refund(index: int) -> None:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"line-{index}"}
        barrier.wait(timeout=30)
        answers[index] = call(server.base_url, "POST", path, body, headers)

    # when ten admins refund both units of A at the same moment, each with a key of their own
    threads = [threading.Thread(target=refund, args=(index,)) for index in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then one refunds A ($21.71) and every other is 422 refund_exceeds_order
    statuses = sorted(answer[0] for answer in answers)
    print(f"\nline refunds x{CALLERS} at once: {statuses}")
    assert statuses == [201] + [422] * (CALLERS - 1)
    [refunded] = [answer[2] for answer in answers if answer[0] == 201]
    assert refunded["refund"]["amount"] == {"amount": 2171, "currency": "USD"}
    codes = {answer[2]["code"] for answer in answers if answer[0] == 422}
    assert codes == {"refund_exceeds_order"}
    with app.app_context():
        payment = payment_queries.live_payment_for(number)
        assert (payment.refunded_minor, payment.refund_pending_minor) == (2171, 0)
        assert db.session.scalar(select(func.count()).select_from(Refund)) == 1
        assert db.session.scalar(select(func.sum(RefundLine.quantity))) == 2
        assert inventory_queries.order_net_quantities(number) == dict(
            zip(variant_ids, (0, 1), strict=True)
        )
        assert get_order(number).status == OrderStatus.PAID
