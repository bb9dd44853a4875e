"""US-43: idempotency keys under truly concurrent requests, against gunicorn on every database.

The test gateway is given a network's latency (``FUNNEL_TEST_GATEWAY_LATENCY_MS``) so that the
first completion is still paying when the others arrive: they must get 409 (still running),
never a second order; once it is done, the same key replays its answer.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from funnel.catalog.models import Variant
from funnel.extensions import db
from funnel.orders.models import Order
from funnel.payments.models import Payment
from tests.checkout.helpers import CARD_SUCCEEDS, expiry
from tests.factories.catalog import ProductFactory
from tests.support.api_carts import ADDRESS
from tests.support.live_server import LiveServer
from tests.support.shops import shop_on

pytestmark = pytest.mark.story("US-43")

CALLERS = 5


def call(
    base_url: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    """One JSON request: (status, headers, body)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base_url + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"null")


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Flask, int]]:
    """A gunicorn shop (4 workers, a slow test gateway) with one product: (server, app, variant)."""
    directory = tmp_path_factory.mktemp(f"api-concurrency-{request.param}")
    # Long enough that the first call is still paying when the others arrive, even when the
    # machine is busy with other tests (at 1.5 s a loaded machine let all five arrive after).
    latency = {"FUNNEL_TEST_GATEWAY_LATENCY_MS": "4000"}
    with shop_on(request.param, directory, settings=latency, workers=4) as (server, app):
        with app.app_context():
            ProductFactory(variants=[{"sku": "KEY-1", "price": 1500, "stock_quantity": 10}])
            variant_id = db.session.scalars(select(Variant.id).where(Variant.sku == "KEY-1")).one()
        yield server, app, variant_id


def test_the_same_key_sent_five_times_at_once_places_one_order(shop: Any) -> None:
    server, app, variant_id = shop
    base = server.base_url
    status, _, cart = call(base, "POST", "/api/v1/carts")
    assert status == 201
    secret = {"Cart-Secret": cart["secret"]}
    status, _, _ = call(
        base,
        "POST",
        f"/api/v1/carts/{cart['id']}/lines",
        {"variant_id": variant_id, "quantity": 1},
        secret,
    )
    assert status == 201
    checkout_body = {
        "cart_id": cart["id"],
        "email": "keys@example.com",
        "shipping_address": ADDRESS,
        "shipping_method": "standard",
    }
    status, _, checkout = call(base, "POST", "/api/v1/checkouts", checkout_body, secret)
    assert status == 201, checkout
    keyed = secret | {"Idempotency-Key": "6c1d9f36-concurrent"}
    payment = {
        "payment_method": "test",
        "card": {"number": CARD_SUCCEEDS, "expiry": expiry(), "cvc": "123"},
    }
    path = f"/api/v1/checkouts/{checkout['id']}/complete"
    barrier = threading.Barrier(CALLERS)
    answers: list[Any] = [None] * CALLERS

    def complete(index: int) -> None:
        barrier.wait(timeout=30)
        answers[index] = call(base, "POST", path, payment, keyed)

    threads = [threading.Thread(target=complete, args=(index,)) for index in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    replay = call(base, "POST", path, payment, keyed)

    statuses = sorted(answer[0] for answer in answers)
    print(f"\nsame key x{CALLERS} at once: {statuses}")
    assert statuses == [200] + [409] * (CALLERS - 1)
    [original] = [answer for answer in answers if answer[0] == 200]
    conflicts = [answer[2] for answer in answers if answer[0] == 409]
    assert {problem["code"] for problem in conflicts} == {"idempotency_request_in_progress"}
    assert original[2]["outcome"] == "paid"
    assert replay[0] == 200
    assert replay[1]["Idempotent-Replayed"] == "true"
    assert replay[2] == original[2]
    with app.app_context():
        orders = db.session.scalar(
            select(func.count()).select_from(Order).where(Order.email == "keys@example.com")
        )
        payments = db.session.scalar(select(func.count()).select_from(Payment))
    assert (orders, payments) == (1, 1)
    assert "Traceback" not in server.logs()
