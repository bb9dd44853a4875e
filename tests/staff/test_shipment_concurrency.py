"""The same shipment sent at once by six callers with one Idempotency-Key, against gunicorn on
every database: one shipment is made (of the one unit asked), the others wait their turn or
answer the first response, and the customer gets one email's worth of shipment."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from funnel.accounts.models import Role
from funnel.extensions import db
from funnel.orders import queries
from funnel.orders.models import OrderStatus, Shipment, ShipmentLine
from tests.checkout.test_api_concurrency import call
from tests.factories.accounts import UserFactory
from tests.factories.inventory import stocked_variant
from tests.factories.orders import pay_by_card, place
from tests.support.api import live_token
from tests.support.live_server import LiveServer
from tests.support.shops import shop_on

pytestmark = pytest.mark.story("US-30")

CALLERS = 6


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def shop(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[LiveServer, Flask]]:
    with shop_on(request.param, tmp_path, workers=4) as running:
        yield running


def test_a_double_submit_makes_one_shipment(shop: tuple[LiveServer, Flask]) -> None:
    # given a paid order of 3 units and a staff member's token
    server, app = shop
    with app.app_context():
        order = place([(stocked_variant(10), 3)])
        pay_by_card(order)
        number = order.number
        [line] = queries.order_lines(order)
        line_id = line.id
        staff = UserFactory(email="shipper@example.com", role=Role.STAFF, is_email_verified=True)
        token = live_token(staff, days=1, name="shipping")
    path = f"/api/v1/staff/orders/{number}/shipments"
    body = {"lines": [{"order_line_id": line_id, "quantity": 1}], "carrier": "dhl"}
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "one-click"}
    barrier = threading.Barrier(CALLERS)
    answers: list[Any] = [None] * CALLERS

    def ship(index: int) -> None:
        barrier.wait(timeout=30)
        answers[index] = call(server.base_url, "POST", path, body, headers)

    # when the same request arrives six times at once (one unit each time, were it repeated)
    threads = [threading.Thread(target=ship, args=(index,)) for index in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then each answer is the shipment or "in progress", and one shipment of one unit exists
    statuses = sorted(answer[0] for answer in answers)
    print(f"\nthe same shipment x{CALLERS} at once: {statuses}")
    assert set(statuses) <= {201, 409}
    assert 201 in statuses
    shipment_ids = {answer[2]["shipment"]["id"] for answer in answers if answer[0] == 201}
    assert len(shipment_ids) == 1
    codes = {answer[2]["code"] for answer in answers if answer[0] == 409}
    assert codes <= {"idempotency_request_in_progress"}
    with app.app_context():
        rows = db.session.execute(
            sa.select(ShipmentLine.order_line_id, ShipmentLine.quantity)
            .join(Shipment, ShipmentLine.shipment_id == Shipment.id)
            .where(Shipment.id.in_(shipment_ids))
        ).all()
        assert [tuple(row) for row in rows] == [(line_id, 1)]
        count = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Shipment)
            .where(Shipment.order_id == queries.get_order(number).id)
        )
        assert count == 1
        assert queries.get_order(number).status == OrderStatus.PAID
