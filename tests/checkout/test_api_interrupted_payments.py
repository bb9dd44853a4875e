"""Payment safety against gunicorn on every database, with real workers killed mid-payment.

The test gateway's card ``4000 0000 0000 0077`` charges, then hangs (its answer lost, as over a
broken network) until the worker is killed with SIGKILL: the gateway holds the money and the
shop has no gateway id, and no order yet. Then the expiry job, or the client calling
``complete`` again with the same key or a new one, must end in one paid order and one charge:
never a forgotten charge. And one cart is checked out (and charged) once, however many requests
arrive at the same instant.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from funnel.catalog.models import Variant
from funnel.checkout import services as checkout_services
from funnel.checkout.models import Checkout
from funnel.core import clock
from funnel.extensions import db
from funnel.orders.models import Order
from funnel.payments.gateways.test import sandbox
from funnel.payments.models import Payment
from tests.checkout.helpers import CARD_SUCCEEDS, expiry
from tests.checkout.test_api_concurrency import call
from tests.factories.catalog import ProductFactory
from tests.support.api_carts import ADDRESS
from tests.support.live_server import LiveServer
from tests.support.shops import shop_on

pytestmark = pytest.mark.story("US-43")

CARD_ANSWER_LOST = "4000000000000077"
LOCK_SECONDS = 2
WAIT_SECONDS = 30
CALLERS = 5


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Flask, int]]:
    """A gunicorn shop (2 workers, a 300 ms gateway, keys of dead requests freed after 2 s)
    with one product: (server, app, variant id)."""
    directory = tmp_path_factory.mktemp(f"interrupted-{request.param}")
    settings = {
        "FUNNEL_TEST_GATEWAY_LATENCY_MS": "300",
        "FUNNEL_IDEMPOTENCY_LOCK_SECONDS": str(LOCK_SECONDS),
    }
    with shop_on(request.param, directory, settings=settings, workers=2) as (server, app):
        with app.app_context():
            ProductFactory(variants=[{"sku": "LOST-1", "price": 2500, "stock_quantity": 50}])
            variant_id = db.session.scalars(select(Variant.id).where(Variant.sku == "LOST-1")).one()
        yield server, app, variant_id


def read(app: Flask, query: Any) -> Any:
    with app.app_context():
        try:
            return query()
        finally:
            db.session.remove()


def checkout_of_a_new_cart(server: LiveServer, variant_id: int, email: str) -> tuple[Any, ...]:
    """A reviewed checkout of a new guest cart: (checkout id, cart headers)."""
    base = server.base_url
    status, _, cart = call(base, "POST", "/api/v1/carts")
    assert status == 201
    secret = {"Cart-Secret": cart["secret"]}
    line = {"variant_id": variant_id, "quantity": 1}
    assert call(base, "POST", f"/api/v1/carts/{cart['id']}/lines", line, secret)[0] == 201
    body = {
        "cart_id": cart["id"],
        "email": email,
        "shipping_address": ADDRESS,
        "shipping_method": "standard",
    }
    status, _, checkout = call(base, "POST", "/api/v1/checkouts", body, secret)
    assert status == 201, checkout
    return checkout["id"], secret


def completion(card_number: str) -> dict[str, Any]:
    return {
        "payment_method": "test",
        "card": {"number": card_number, "expiry": expiry(), "cvc": "123"},
    }


def workers_of(server: LiveServer) -> list[int]:
    """The gunicorn master's child processes (its workers)."""
    assert server.process is not None
    master = server.process.pid
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            children.append(int(entry.name))
    return children


def payments_of(email: str) -> list[Payment]:
    """The payments of ``email``'s checkouts: their attempts' and their orders'."""
    checkouts = db.session.scalars(select(Checkout).where(Checkout.email == email)).all()
    keys = [checkout_services.payment_key(checkout, 1) for checkout in checkouts]
    return list(
        db.session.scalars(
            select(Payment).where(Payment.idempotency_key.in_(keys)).order_by(Payment.id)
        )
    )


def charges_of(app: Flask, email: str) -> list[str]:
    """The statuses of the gateway's charges for the checkouts of ``email``."""

    def query() -> list[str]:
        keys = [payment.idempotency_key for payment in payments_of(email)]
        return list(
            db.session.scalars(
                select(sandbox.SandboxCharge.status).where(
                    sandbox.SandboxCharge.idempotency_key.in_(keys)
                )
            )
        )

    return read(app, query)


def kill_mid_payment(
    server: LiveServer, app: Flask, checkout_id: int, secret: dict[str, str], key: str, email: str
) -> None:
    """Complete with the lost-answer card; once the gateway has charged, SIGKILL the workers."""
    path = f"/api/v1/checkouts/{checkout_id}/complete"
    headers = secret | {"Idempotency-Key": key}

    def send() -> None:
        with contextlib.suppress(OSError):  # the connection dies with the worker
            call(server.base_url, "POST", path, completion(CARD_ANSWER_LOST), headers)

    request = threading.Thread(target=send)
    request.start()
    deadline = time.monotonic() + WAIT_SECONDS
    while charges_of(app, email) != ["succeeded"]:
        assert time.monotonic() < deadline, server.logs()[-3000:]
        time.sleep(0.1)  # polling the gateway's records, not waiting for a result
    for worker in workers_of(server):
        os.kill(worker, signal.SIGKILL)
    request.join(timeout=WAIT_SECONDS)
    assert not request.is_alive()


def outcome_of(app: Flask, email: str) -> tuple[list[str], list[tuple[str, bool]]]:
    """(order statuses, [(payment status, has a gateway id)]) of ``email``'s checkouts."""

    def query() -> tuple[list[str], list[tuple[str, bool]]]:
        orders = db.session.scalars(select(Order).where(Order.email == email)).all()
        payments = payments_of(email)
        return (
            [order.status.value for order in orders],
            [
                (payment.status.value, payment.gateway_payment_id is not None)
                for payment in payments
            ],
        )

    return read(app, query)


def test_a_worker_killed_after_the_charge_leaves_a_charge_the_expiry_job_turns_into_an_order(
    shop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, app, variant_id = shop
    email = "killed-job@example.com"
    # given a completion whose worker was killed after the gateway charged the card
    checkout_id, secret = checkout_of_a_new_cart(server, variant_id, email)
    kill_mid_payment(server, app, checkout_id, secret, "killed-job-0001", email)
    assert outcome_of(app, email) == ([], [("pending", False)])

    # when the expiry job runs after the checkout expired
    later = clock.utcnow() + timedelta(hours=25)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    read(app, checkout_services.expire_checkouts)

    # then the order is placed and paid with the one charge: the money was not forgotten
    assert outcome_of(app, email) == (["paid"], [("succeeded", True)])
    assert charges_of(app, email) == ["succeeded"]


def test_a_completion_killed_mid_payment_is_finished_by_the_same_key_then_a_new_one(
    shop: Any,
) -> None:
    server, app, variant_id = shop
    email = "killed-retry@example.com"
    path_key = "killed-retry-0001"
    # given a completion whose worker was killed after the gateway charged the card
    checkout_id, secret = checkout_of_a_new_cart(server, variant_id, email)
    kill_mid_payment(server, app, checkout_id, secret, path_key, email)
    path = f"/api/v1/checkouts/{checkout_id}/complete"

    # when the client retries with the same key once the dead request's claim lapsed,
    # then with a new key
    time.sleep(LOCK_SECONDS + 1)  # the claim of the killed request lapses
    same = call(
        server.base_url,
        "POST",
        path,
        completion(CARD_ANSWER_LOST),
        secret | {"Idempotency-Key": path_key},
    )
    new = call(
        server.base_url,
        "POST",
        path,
        completion(CARD_ANSWER_LOST),
        secret | {"Idempotency-Key": "killed-retry-0002"},
    )

    # then both answer with the paid order; one order, one payment, one charge
    assert (same[0], same[2]["outcome"]) == (200, "paid"), same
    assert (new[0], new[2]["outcome"]) == (200, "paid"), new
    assert outcome_of(app, email) == (["paid"], [("succeeded", True)])
    assert charges_of(app, email) == ["succeeded"]


def test_a_completion_killed_mid_payment_is_finished_by_a_new_key(shop: Any) -> None:
    server, app, variant_id = shop
    email = "killed-new-key@example.com"
    # given a completion whose worker was killed after the gateway charged the card
    checkout_id, secret = checkout_of_a_new_cart(server, variant_id, email)
    kill_mid_payment(server, app, checkout_id, secret, "killed-new-0001", email)

    # when the client completes again at once, with a new key
    answer = call(
        server.base_url,
        "POST",
        f"/api/v1/checkouts/{checkout_id}/complete",
        completion(CARD_ANSWER_LOST),
        secret | {"Idempotency-Key": "killed-new-0002"},
    )

    # then the order is paid with the one charge the gateway made
    assert (answer[0], answer[2]["outcome"]) == (200, "paid"), answer
    assert outcome_of(app, email) == (["paid"], [("succeeded", True)])
    assert charges_of(app, email) == ["succeeded"]


def test_one_cart_checked_out_and_completed_by_many_requests_at_once_is_charged_once(
    shop: Any,
) -> None:
    server, app, variant_id = shop
    base = server.base_url
    email = "one-cart@example.com"
    status, _, cart = call(base, "POST", "/api/v1/carts")
    assert status == 201
    secret = {"Cart-Secret": cart["secret"]}
    line = {"variant_id": variant_id, "quantity": 1}
    assert call(base, "POST", f"/api/v1/carts/{cart['id']}/lines", line, secret)[0] == 201
    body = {
        "cart_id": cart["id"],
        "email": email,
        "shipping_address": ADDRESS,
        "shipping_method": "standard",
    }

    # when five clients check the cart out at once, then complete each checkout they got,
    # each with its own key, at once
    def at_once(work: Any) -> list[Any]:
        barrier = threading.Barrier(CALLERS)
        answers: list[Any] = [None] * CALLERS

        def run(index: int) -> None:
            barrier.wait(timeout=30)
            answers[index] = work(index)

        threads = [threading.Thread(target=run, args=(index,)) for index in range(CALLERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        return answers

    started = at_once(lambda _index: call(base, "POST", "/api/v1/checkouts", body, secret))
    completed = at_once(
        lambda index: call(
            base,
            "POST",
            f"/api/v1/checkouts/{started[index][2]['id']}/complete",
            completion(CARD_SUCCEEDS),
            secret | {"Idempotency-Key": f"one-cart-{index:04d}"},
        )
    )

    # then there was one checkout, and one paid order with one charge
    print(f"\none cart x{CALLERS}: {[a[0] for a in started]} then {[a[0] for a in completed]}")
    assert [answer[0] for answer in started] == [201] * CALLERS
    assert len({answer[2]["id"] for answer in started}) == 1
    assert [answer[0] for answer in completed] == [200] * CALLERS, completed
    assert {answer[2]["order"]["number"] for answer in completed} == {
        completed[0][2]["order"]["number"]
    }
    checkouts = read(
        app,
        lambda: db.session.scalar(
            select(func.count()).select_from(Checkout).where(Checkout.cart_id == cart["id"])
        ),
    )
    assert checkouts == 1
    assert outcome_of(app, email) == (["paid"], [("succeeded", True)])
    assert charges_of(app, email) == ["succeeded"]
    assert "Traceback" not in server.logs()
