"""Races against a real multi-process server: gunicorn with four sync workers, each test run
on a database of its own (SQLite, PostgreSQL, MariaDB), migrated with ``flask db upgrade``.

Each buyer is a thread with its own cookie jar that reads the real CSRF tokens from the pages,
as a browser does. Timings are printed (``pytest -s``) for the closing note.
"""

from __future__ import annotations

import http.cookiejar
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from funnel import create_app
from funnel.catalog.models import Product, Variant
from funnel.core import clock
from funnel.extensions import db
from funnel.inventory import queries as inventory_queries
from funnel.orders import queries as order_queries
from funnel.orders.models import Order
from funnel.payments import queries as payment_queries
from funnel.payments.gateways.test import sandbox
from tests.checkout.helpers import ADDRESS, CARD_PROCESSING, CARD_SUCCEEDS, expiry
from tests.conftest import missing_service
from tests.factories.catalog import ProductFactory
from tests.payments.helpers import signed_event_for
from tests.support.databases import DatabaseProvider
from tests.support.live_server import LiveServer

BUYERS = 50
STOCK = 5
WEBHOOK_SECRET = "whsec_concurrency_" + secrets.token_hex(8)
_CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)
_SUBMIT = re.compile(r'name="submit_token" type="hidden" value="([^"]*)"')

pytestmark = pytest.mark.story("US-19")


class Answer:
    def __init__(self, status: int, location: str, body: str) -> None:
        self.status, self.location, self.body = status, location, body


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_arguments: Any, **_keywords: Any) -> None:
        return None


class Browser:
    """A buyer: a cookie jar and an opener that shows redirects instead of following them."""

    def __init__(self, base_url: str, jar: http.cookiejar.CookieJar | None = None) -> None:
        self.base_url = base_url
        self.jar = jar if jar is not None else http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirects()
        )
        self.csrf = ""

    def request(self, path: str, data: dict[str, Any] | None = None) -> Answer:
        body = None
        if data is not None:
            body = urllib.parse.urlencode({"csrf_token": self.csrf, **data}).encode()
        request = urllib.request.Request(self.base_url + path, data=body)
        try:
            with self.opener.open(request, timeout=120) as response:
                answer = Answer(response.status, "", response.read().decode())
        except urllib.error.HTTPError as error:
            answer = Answer(error.code, error.headers.get("Location", ""), error.read().decode())
        match = _CSRF.search(answer.body)
        if match:
            self.csrf = match.group(1) or match.group(2)
        return answer


def seeded_app(database_url: str) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "seed",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TEST_GATEWAY_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "BASE_URL": "http://127.0.0.1",
        }
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Flask, int, str]]:
    """A gunicorn shop on a fresh database holding one product with 5 units:
    ``(server, app bound to that database, variant id, product slug)``."""
    directory = tmp_path_factory.mktemp(f"concurrency-{request.param}")
    provider = DatabaseProvider(directory)
    url = provider.url_for(request.param)
    if url is None:
        missing_service(provider.missing_reason(request.param))
    server = LiveServer(
        directory,
        database_url=url,
        workers=4,
        settings={
            "FUNNEL_TEST_GATEWAY_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "FUNNEL_SECRET_KEY": secrets.token_urlsafe(32),
        },
    )
    server.start()
    app = seeded_app(url)
    try:
        with app.app_context():
            product = ProductFactory(
                title="Last mugs",
                variants=[{"sku": "RACE-1", "price": 1200, "stock_quantity": STOCK}],
            )
            variant = db.session.scalars(select(Variant).where(Variant.sku == "RACE-1")).one()
            ids = (variant.id, db.session.get(Product, product.id).slug)
        yield server, app, *ids
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()
        provider.drop_all()


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            results[index] = work(index, barrier)
        except Exception as error:  # counted as a failure by the test
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    return results


def fill_cart(browser: Browser, slug: str, variant_id: int) -> None:
    assert browser.request(f"/p/{slug}").status == 200
    added = browser.request("/cart/lines", {"variant_id": variant_id, "quantity": 1})
    assert added.status == 303, added.body[:300]


def to_pay_step(browser: Browser, email: str) -> Answer | str:
    """Start checkout and fill the steps; the pay form's token, or the refusal."""
    assert browser.request("/checkout").status == 200
    started = browser.request("/checkout", {"email": email})
    if started.status != 303:
        return started
    for path, data in (
        ("/checkout/address", ADDRESS),
        ("/checkout/shipping", {"shipping_method": "standard"}),
        ("/checkout/review", {}),
    ):
        answer = browser.request(path, data)
        if answer.status != 303:
            return answer
    page = browser.request("/checkout/pay")
    return _SUBMIT.search(page.body).group(1)


def pay(browser: Browser, token: str, card: str = CARD_SUCCEEDS) -> Answer:
    data = {"payment_method": "test", "submit_token": token, "card_number": card}
    return browser.request("/checkout/pay", {**data, "card_expiry": expiry(), "card_cvc": "123"})


def read(app: Flask, query: Callable[[], Any]) -> Any:
    with app.app_context():
        try:
            return query()
        finally:
            db.session.remove()


def test_fifty_buyers_race_for_five_units_and_exactly_five_pay(shop: Any) -> None:
    server, app, variant_id, slug = shop
    browsers = [Browser(server.base_url) for _ in range(BUYERS)]
    for browser in browsers:  # every cart holds one unit before anyone reserves
        fill_cart(browser, slug, variant_id)

    def buy(index: int, barrier: threading.Barrier) -> str:
        browser = browsers[index]
        barrier.wait(timeout=60)
        token = to_pay_step(browser, f"buyer{index}@example.com")
        if isinstance(token, Answer):
            sold_out = token.status == 409 and "Last mugs (RACE-1): sold out" in token.body
            return "sold out" if sold_out else f"HTTP {token.status}"
        paid = pay(browser, token)
        if paid.status == 409 and "sold out" in paid.body:
            return "sold out"
        if paid.status != 303 or "/checkout/complete/" not in paid.location:
            return f"HTTP {paid.status} {paid.location}"
        path = urllib.parse.urlsplit(paid.location).path
        confirmation = browser.request(path)
        return "paid" if "is confirmed." in confirmation.body else "not confirmed"

    started = time.monotonic()
    outcomes = Counter(str(result) for result in at_once(BUYERS, buy))
    seconds = time.monotonic() - started

    print(f"\n50 buyers for 5 units: {dict(outcomes)} in {seconds:.2f}s")
    assert outcomes == Counter({"paid": STOCK, "sold out": BUYERS - STOCK}), server.logs()[-6000:]
    stock, paid_orders, discrepancies = read(
        app,
        lambda: (
            db.session.get(Variant, variant_id).stock_quantity,
            db.session.scalars(select(Order.status)).all(),
            inventory_queries.ledger_discrepancies(),
        ),
    )
    assert (stock, [status.value for status in paid_orders], discrepancies) == (
        0,
        ["paid"] * STOCK,
        [],
    )
    assert "Traceback" not in server.logs()
    assert "4242424242424242" not in server.logs()


def test_a_pay_form_submitted_five_times_at_once_places_one_order(shop: Any) -> None:
    server, app, variant_id, slug = shop
    read(app, lambda: _restock(variant_id))
    first = Browser(server.base_url)
    fill_cart(first, slug, variant_id)
    token = to_pay_step(first, "double@example.com")
    assert isinstance(token, str)
    tabs = [first] + [Browser(server.base_url, first.jar) for _ in range(4)]
    for tab in tabs[1:]:
        tab.csrf = first.csrf
    before = read(app, lambda: len(db.session.scalars(select(Order.id)).all()))

    started = time.monotonic()
    answers = at_once(
        5, lambda index, barrier: (barrier.wait(timeout=60), pay(tabs[index], token))[1]
    )
    seconds = time.monotonic() - started

    numbers = read(
        app,
        lambda: db.session.scalars(
            select(Order.number).where(Order.email == "double@example.com")
        ).all(),
    )
    print(f"\ndouble submit x5: {[a.status for a in answers]} in {seconds:.2f}s")
    assert len(numbers) == 1
    assert [(a.status, urllib.parse.urlsplit(a.location).path) for a in answers] == [
        (303, f"/checkout/complete/{numbers[0]}")
    ] * 5
    assert read(app, lambda: len(db.session.scalars(select(Order.id)).all())) == before + 1


def _restock(variant_id: int) -> None:
    from funnel.inventory import services as inventory

    inventory.adjust_stock(variant_id, delta=10, reason="received", note="restock")


def test_a_webhook_delivered_five_times_at_once_changes_the_order_once(shop: Any) -> None:
    server, app, variant_id, slug = shop
    read(app, lambda: _restock(variant_id))
    buyer = Browser(server.base_url)
    fill_cart(buyer, slug, variant_id)
    token = to_pay_step(buyer, "webhook@example.com")
    assert isinstance(token, str)
    assert "/checkout/complete/" in pay(buyer, token, CARD_PROCESSING).location

    def signed_delivery() -> tuple[str, bytes, dict[str, str]]:
        number = db.session.scalars(
            select(Order.number).where(Order.email == "webhook@example.com")
        ).one()
        sandbox.settle_due_charges(clock.utcnow() + timedelta(seconds=60))
        payment = payment_queries.payments_for(number)[0]
        return (number, *signed_event_for(payment.id))

    number, body, headers = read(app, signed_delivery)

    def deliver(_index: int, barrier: threading.Barrier) -> tuple[int, str]:
        request = urllib.request.Request(
            server.base_url + "/webhooks/test", data=body, headers=headers, method="POST"
        )
        barrier.wait(timeout=60)
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()

    answers = at_once(5, deliver)

    assert sorted(answers) == [(200, "duplicate")] * 4 + [(200, "succeeded")]
    events = read(
        app,
        lambda: [
            (event.from_status, event.to_status)
            for event in order_queries.order_events(order_queries.get_order(number))
        ],
    )
    assert events == [(None, "pending_payment"), ("pending_payment", "paid")]
