"""US-68, US-69: the shop's process dies between Stripe's success and the shop's commit, and the
webhook, or the reconciliation, repairs it: one paid order, one charge, and doing it again
changes nothing.

A real gunicorn shop (one worker) pays through the local stand-in for Stripe's API. A headless
client completes its checkout with stripe and confirms the card at Stripe (the stand-in plays
Stripe.js); then asks the shop for the outcome. The stand-in takes the shop's question, has its
success answer ready, and holds it: the test kills the shop's worker and master with SIGKILL,
then lets the answer go into the dead connection. Nothing in the shop knows of the test.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from funnel import create_app
from funnel.catalog.models import Variant
from funnel.extensions import db
from funnel.orders.models import Order
from funnel.payments.models import Payment, PaymentEvent, WebhookEvent
from tests.checkout.test_api_headless_purchase import HttpClient
from tests.conftest import missing_service
from tests.factories.catalog import ProductFactory
from tests.support.api_carts import ADDRESS
from tests.support.databases import DatabaseProvider
from tests.support.live_server import LiveServer, run_flask, shop_environment
from tests.support.stripe_standin import (
    API_KEY,
    WEBHOOK_SECRET,
    StripeStandIn,
    signed,
)

pytestmark = [pytest.mark.story("US-68"), pytest.mark.story("US-69")]

API = "/api/v1"
BACKENDS = ["sqlite", "postgresql", "mysql"]


@dataclass
class StripeShop:
    """A running stand-in; ``start()`` starts a gunicorn shop paying through it (the same
    database and settings each time); ``environment`` is the shop's, for its commands; ``app``
    reads the database."""

    standin: StripeStandIn
    environment: dict[str, str]
    app: Flask
    directory: Path
    servers: list[LiveServer] = field(default_factory=list)

    def start(self) -> LiveServer:
        settings = {
            key: value for key, value in self.environment.items() if key.startswith("FUNNEL_")
        }
        server = LiveServer(self.directory, workers=1, settings=settings)
        self.servers.append(server)
        return server.start()


@contextmanager
def stripe_shop(backend: str, directory: Path) -> Iterator[StripeShop]:
    provider = DatabaseProvider(directory)
    url = provider.url_for(backend)
    if url is None:
        missing_service(provider.missing_reason(backend))
    with StripeStandIn().running() as standin:
        environment = shop_environment(
            directory,
            {
                "FUNNEL_DATABASE_URL": url,
                "FUNNEL_SECRET_KEY": secrets.token_urlsafe(32),
                "FUNNEL_PAYMENT_GATEWAYS": "stripe,manual",
                "FUNNEL_STRIPE_SECRET_KEY": API_KEY,
                "FUNNEL_STRIPE_PUBLISHABLE_KEY": "pk_test_standin",
                "FUNNEL_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "FUNNEL_STRIPE_API_BASE": standin.url,
            },
        )
        app = create_app({"TESTING": True, "SECRET_KEY": "reader", "SQLALCHEMY_DATABASE_URI": url})
        shop = StripeShop(standin, environment, app, directory)
        try:
            yield shop
        finally:
            standin.release()
            for server in shop.servers:
                server.stop()
            with app.app_context():
                db.engine.dispose()
            provider.drop_all()


def kill(server: LiveServer) -> None:
    """SIGKILL the worker(s) and the master at once: no handler, no rollback, no goodbye."""
    assert server.process is not None
    master = server.process.pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    for pid in [*map(int, children), master]:
        os.kill(pid, signal.SIGKILL)
    server.process.wait(timeout=10)
    server.process = None
    for pid in map(int, children):
        while Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid):
            time.sleep(0.05)  # the kernel ending a killed process, not a page


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].splitlines()[0].lower()
    except (FileNotFoundError, IndexError):
        return "zombie"


def died_after_stripes_success(standin: StripeStandIn, server: LiveServer, app: Flask) -> str:
    """A guest pays 2 mugs with stripe; the shop dies while Stripe's success is on its way.
    Returns the intent's id."""
    with app.app_context():
        ProductFactory(
            title="Harbour mug", variants=[{"sku": "MUG-1", "price": 1250, "stock_quantity": 5}]
        )
        variant_id = db.session.scalar(sa.select(Variant.id).where(Variant.sku == "MUG-1"))
    client = HttpClient(server.base_url)
    made = client.call("POST", f"{API}/carts")
    cart_id, secret = made.json()["id"], made.json()["secret"]
    headers = {"Cart-Secret": secret}
    added = client.call(
        "POST", f"{API}/carts/{cart_id}/lines", {"variant_id": variant_id, "quantity": 2}, headers
    )
    assert added.status == 201, added.body
    started = client.call(
        "POST",
        f"{API}/checkouts",
        {
            "cart_id": cart_id,
            "email": "guest@example.com",
            "shipping_address": ADDRESS,
            "shipping_method": "standard",
        },
        headers,
    )
    assert started.status == 201, started.body
    checkout_id = started.json()["id"]
    completed = client.call(
        "POST",
        f"{API}/checkouts/{checkout_id}/complete",
        {"payment_method": "stripe"},
        headers | {"Idempotency-Key": f"kill-{secrets.token_hex(8)}"},
    )
    assert (completed.status, completed.json()["outcome"]) == (200, "requires_action")
    [intent] = standin.intents.values()
    standin.confirm(intent["id"])  # the customer's card, accepted at Stripe

    # the storefront asks the shop for the outcome; Stripe's success is held on its way back
    standin.hold_next_answer()
    asking = threading.Thread(
        target=_ask_quietly,
        args=(client, f"{API}/checkouts/{checkout_id}/payment-confirmation", headers),
    )
    asking.start()
    assert standin.wait_until_held(), server.logs()
    kill(server)
    standin.release()
    asking.join(timeout=30)
    assert not asking.is_alive()
    return str(intent["id"])


def _ask_quietly(client: HttpClient, path: str, headers: dict[str, str]) -> None:
    with contextlib.suppress(OSError):  # the shop died mid-request: the storefront never hears
        client.call("POST", path, headers=headers)


def deliver(server: LiveServer, body: str) -> tuple[int, str]:
    """POST Stripe's signed event, its raw body as Stripe sends it: (status, text)."""
    request = urllib.request.Request(
        f"{server.base_url}/webhooks/stripe", data=body.encode(), headers=signed(body)
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def books(app: Flask) -> dict[str, Any]:
    """What the shop recorded: orders (status), payments (status), status changes, events."""
    with app.app_context():
        orders = db.session.execute(sa.select(Order.number, Order.status)).all()
        payments = db.session.execute(sa.select(Payment.status, Payment.gateway_payment_id)).all()
        changes = db.session.scalar(sa.select(sa.func.count()).select_from(PaymentEvent))
        events = db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent))
        db.session.rollback()
    return {
        "orders": [status.value for _, status in orders],
        "payments": [(status.value, intent) for status, intent in payments],
        "payment_events": int(changes or 0),
        "webhook_events": int(events or 0),
    }


def charges(standin: StripeStandIn) -> dict[str, Any]:
    """What Stripe holds: the intents' statuses, the refunds, the intents created."""
    return {
        "intents": sorted(intent["status"] for intent in standin.intents.values()),
        "refunds": len(standin.refunds),
        "created": len([r for r in standin.posts() if r.path == "/v1/payment_intents"]),
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_webhook_repairs_a_shop_killed_after_stripes_success(
    backend: str, tmp_path: Path
) -> None:
    with stripe_shop(backend, tmp_path) as shop:
        # given a shop killed after Stripe took the money, before it recorded it
        standin, app = shop.standin, shop.app
        intent_id = died_after_stripes_success(standin, shop.start(), app)
        before = books(app)
        assert before["orders"] == ["pending_payment"]
        assert before["payments"] == [("requires_action", intent_id)]

        # when Stripe's signed event reaches a fresh shop, then again (Stripe retries)
        fresh = shop.start()
        body = standin.event("payment_intent.succeeded", intent_id)
        began = time.monotonic()
        first = deliver(fresh, body)
        repaired_in = time.monotonic() - began
        after_first = books(app)
        again = deliver(fresh, body)

        # then one order, paid, by one status change; the second delivery changes nothing
        assert first == (200, "succeeded")
        assert again == (200, "duplicate")
        assert after_first["orders"] == ["paid"]
        assert after_first["payments"] == [("succeeded", intent_id)]
        assert after_first["payment_events"] == before["payment_events"] + 1
        assert books(app) == after_first
        assert charges(standin) == {"intents": ["succeeded"], "refunds": 0, "created": 1}
        assert "Traceback" not in fresh.logs()
        print(f"\n[{backend}] webhook repair: {repaired_in * 1000:.0f} ms, {after_first}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_reconciliation_repairs_a_shop_killed_after_stripes_success(
    backend: str, tmp_path: Path
) -> None:
    with stripe_shop(backend, tmp_path) as shop:
        # given a shop killed after Stripe took the money, and no webhook ever arriving
        standin, app = shop.standin, shop.app
        intent_id = died_after_stripes_success(standin, shop.start(), app)
        before = books(app)
        assert before["orders"] == ["pending_payment"]

        # when the reconciliation runs (the shop's command, as the hourly job runs it), twice
        began = time.monotonic()
        run_flask(shop.environment, "payments", "reconcile", "--hours", "1")
        repaired_in = time.monotonic() - began
        after_first = books(app)
        run_flask(shop.environment, "payments", "reconcile", "--hours", "1")

        # then one order, paid, by one status change; the second run changes nothing
        assert after_first["orders"] == ["paid"]
        assert after_first["payments"] == [("succeeded", intent_id)]
        assert after_first["payment_events"] == before["payment_events"] + 1
        assert books(app) == after_first
        assert charges(standin) == {"intents": ["succeeded"], "refunds": 0, "created": 1}
        print(f"\n[{backend}] reconciliation repair: {repaired_in * 1000:.0f} ms, {after_first}")
