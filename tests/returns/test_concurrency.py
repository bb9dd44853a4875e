"""Return requests and staff steps sent at once, against gunicorn on every database: the
order's lock lets one through, so units are asked for once and restocked once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from funnel.accounts.models import Role
from funnel.extensions import db
from funnel.inventory import queries as inventory_queries
from funnel.orders import services
from funnel.orders.models import ReturnLine, ReturnRequest
from tests.checkout.test_api_concurrency import call
from tests.factories.accounts import UserFactory
from tests.returns.helpers import delivered_order, lines_of
from tests.support.api import live_token
from tests.support.live_server import LiveServer
from tests.support.shops import shop_on

CALLERS = 8


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def shop(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[LiveServer, Flask]]:
    with shop_on(request.param, tmp_path, workers=4) as running:
        yield running


def _at_once(send: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(CALLERS)
    answers: list[Any] = [None] * CALLERS

    def run(index: int) -> None:
        barrier.wait(timeout=30)
        answers[index] = send(index)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


@pytest.mark.story("US-26")
def test_requests_for_the_same_units_at_once_make_one_return(
    shop: tuple[LiveServer, Flask],
) -> None:
    # given a delivered order of its customer, with 2 units of its first line
    server, app = shop
    with app.app_context():
        customer = UserFactory(email="returns-race@example.com", is_email_verified=True)
        order = delivered_order(customer)
        number, line = order.number, lines_of(order)[0].id
        token = live_token(customer, days=1)
    path = f"/api/v1/orders/{number}/returns"
    body = {"lines": [{"order_line_id": line, "quantity": 2}], "reason": "Too small"}

    # when the customer sends the request for both units eight times at once, each its own key
    answers = _at_once(
        lambda index: call(
            server.base_url,
            "POST",
            path,
            body,
            {"Authorization": f"Bearer {token}", "Idempotency-Key": f"race-{index}"},
        )
    )

    # then one return holds the units, and every other request is refused
    statuses = sorted(answer[0] for answer in answers)
    assert statuses == [201] + [422] * (CALLERS - 1)
    assert {answer[2]["code"] for answer in answers if answer[0] == 422} == {
        "invalid_return_request"
    }
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReturnRequest)) == 1
        assert db.session.scalar(select(func.sum(ReturnLine.quantity))) == 2


@pytest.mark.story("US-33")
def test_receiving_a_return_at_once_restocks_once(shop: tuple[LiveServer, Flask]) -> None:
    # given an approved return of 2 + 1 units
    server, app = shop
    with app.app_context():
        staff = UserFactory(email="returns-staff@example.com", role=Role.STAFF)
        order = delivered_order()
        first, second = lines_of(order)
        change = services.request_return(
            order.number, {first.id: 2, second.id: 1}, reason="Too small"
        )
        services.move_return(change.number, "approved", actor_user_id=staff.id)
        held = inventory_queries.order_net_quantities(order.number)
        variants = (first.variant_id, second.variant_id)
        order_number, line_ids = order.number, (first.id, second.id)
        token = live_token(staff, days=1)
    path = f"/api/v1/staff/returns/{change.number}/transitions"
    body = {
        "to": "received",
        "restock": [
            {"order_line_id": line_ids[0], "quantity": 2},
            {"order_line_id": line_ids[1], "quantity": 1},
        ],
    }

    # when staff mark it received eight times at once
    answers = _at_once(
        lambda _index: call(
            server.base_url, "POST", path, body, {"Authorization": f"Bearer {token}"}
        )
    )

    # then every call answers the received return, one of them made the change, and the
    # units went back to stock once
    assert [answer[0] for answer in answers] == [200] * CALLERS
    assert sorted(answer[2]["changed"] for answer in answers) == [False] * (CALLERS - 1) + [True]
    with app.app_context():
        after = inventory_queries.order_net_quantities(order_number)
        assert [held[variant] - after.get(variant, 0) for variant in variants] == [2, 1]
