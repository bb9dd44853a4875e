"""US-41, US-42, US-43: a headless storefront buys through the API alone, end to end.

A gunicorn shop on each database, and a client that speaks only HTTP (urllib, a cookie jar for
the bank's page): register, take a token, search, read a product, fill the account's cart and
change a line, check out, pay with a 3-D Secure card (the bank's page approves, as the customer
would in a browser), confirm, and read the order, paid. The stock went down once; the same
Idempotency-Key replays the first answer instead of paying again.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from funnel.catalog.models import Variant
from funnel.extensions import db
from funnel.orders.models import Order
from funnel.payments.models import Payment
from tests.checkout.helpers import CARD_3DS, expiry
from tests.factories.catalog import ProductFactory
from tests.support.api_carts import ADDRESS
from tests.support.live_server import LiveServer
from tests.support.shops import shop_on

pytestmark = [pytest.mark.story("US-41"), pytest.mark.story("US-42"), pytest.mark.story("US-43")]

API = "/api/v1"
EMAIL = "headless@example.com"
PASSWORD = "a headless storefront's passphrase"
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def text(self) -> str:
        return self.body.decode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Hand a redirect back to the caller: a headless client decides where it goes next."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class HttpClient:
    """What a headless storefront has: HTTP, and cookies for the bank's page."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirects()
        )

    def call(
        self,
        method: str,
        url: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
    ) -> Answer:
        """One request to a path of the shop (or a full URL); any status is an answer."""
        sent = dict(headers or {})
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        full_url = url if url.startswith("http") else self.base_url + url
        request = urllib.request.Request(full_url, data=data, method=method, headers=sent)
        try:
            with self.opener.open(request, timeout=60) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read())


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mysql"])
def shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Flask]]:
    """A gunicorn shop with rate limits on, and an app on its database for setup and checks."""
    directory = tmp_path_factory.mktemp(f"headless-{request.param}")
    limits_on = {"FUNNEL_RATELIMIT_ENABLED": "true"}
    with shop_on(request.param, directory, settings=limits_on) as shop_and_app:
        yield shop_and_app


def lamp_variant(sku: str, colour: str, *, stock_quantity: int) -> dict[str, Any]:
    return {
        "sku": sku,
        "price": 4500,
        "stock_quantity": stock_quantity,
        "options": {"Colour": colour},
    }


def stock_by_sku(app: Flask) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(sa.select(Variant.sku, Variant.stock_quantity)).all()
    return dict(rows)  # type: ignore[arg-type]


def test_a_headless_storefront_buys_with_3d_secure_through_the_api_alone(
    shop: tuple[LiveServer, Flask],
) -> None:
    # given a shop with a lamp (one colour sold out) and a mug, both found by "harbour"
    server, app = shop
    with app.app_context():
        ProductFactory(
            title="Harbour desk lamp",
            variants=[
                lamp_variant("LAMP-WHITE", "White", stock_quantity=0),
                lamp_variant("LAMP-BLACK", "Black", stock_quantity=5),
            ],
        )
        ProductFactory(
            title="Harbour mug", variants=[{"sku": "MUG-1", "price": 1250, "stock_quantity": 10}]
        )
        ProductFactory(title="Meadow teapot", variants=[{"sku": "POT-1", "stock_quantity": 3}])
    client = HttpClient(server.base_url)

    # when a new customer registers and takes a token
    registered = client.call("POST", f"{API}/auth/register", {"email": EMAIL, "password": PASSWORD})
    issued = client.call(
        "POST", f"{API}/auth/tokens", {"email": EMAIL, "password": PASSWORD, "name": "storefront"}
    )
    bearer = {"Authorization": f"Bearer {issued.json()['token']}"}

    # then the account is a customer's and the token is the caller's
    assert registered.status == 201, registered.body
    assert (registered.json()["email"], registered.json()["role"]) == (EMAIL, "customer")
    assert issued.status == 201, issued.body
    me = client.call("GET", f"{API}/me", headers=bearer)
    assert (me.status, me.json()["email"]) == (200, EMAIL)

    # when it searches and reads the lamp
    found = client.call("GET", f"{API}/products?q=harbour")
    slugs = sorted(item["slug"] for item in found.json()["items"])
    lamp_slug = next(slug for slug in slugs if "lamp" in slug)
    lamp = client.call("GET", f"{API}/products/{lamp_slug}").json()

    # then both harbour products, and only they, are found; the lamp shows its stock by colour
    assert found.status == 200
    assert slugs == ["harbour-desk-lamp", "harbour-mug"]
    assert found.json()["next_cursor"] is None
    assert [(v["sku"], v["in_stock"], v["options"]) for v in lamp["variants"]] == [
        ("LAMP-WHITE", False, {"Colour": "White"}),
        ("LAMP-BLACK", True, {"Colour": "Black"}),
    ]
    lamp_id = next(variant["id"] for variant in lamp["variants"] if variant["in_stock"])
    mug = client.call("GET", f"{API}/products/harbour-mug").json()
    mug_id = mug["variants"][0]["id"]

    # when it fills the account's cart: the lamp, three mugs, then two mugs after all
    made = client.call("POST", f"{API}/carts", headers=bearer)
    cart_id = made.json()["id"]
    added_lamp = client.call(
        "POST", f"{API}/carts/{cart_id}/lines", {"variant_id": lamp_id, "quantity": 1}, bearer
    )
    added_mugs = client.call(
        "POST", f"{API}/carts/{cart_id}/lines", {"variant_id": mug_id, "quantity": 3}, bearer
    )
    mug_line = next(line for line in added_mugs.json()["lines"] if line["sku"] == "MUG-1")
    changed = client.call(
        "PATCH", f"{API}/carts/{cart_id}/lines/{mug_line['id']}", {"quantity": 2}, bearer
    )

    # then the cart holds one lamp and two mugs, priced from the catalogue
    assert (made.status, made.json()["secret"], made.json()["item_count"]) == (201, None, 0)
    assert (added_lamp.status, added_mugs.status, changed.status) == (201, 201, 200)
    cart = changed.json()
    assert sorted((line["sku"], line["quantity"]) for line in cart["lines"]) == [
        ("LAMP-BLACK", 1),
        ("MUG-1", 2),
    ]
    assert (cart["item_count"], cart["subtotal"]) == (3, {"amount": 7000, "currency": "USD"})

    # when it checks out: standard shipping to Bristol
    started = client.call(
        "POST",
        f"{API}/checkouts",
        {"cart_id": cart_id, "shipping_address": ADDRESS, "shipping_method": "standard"},
        bearer,
    )
    checkout = started.json()

    # then the totals: free standard shipping over $50, UK tax of 20%, the account's email
    assert started.status == 201, started.body
    assert (checkout["email"], checkout["status"], checkout["is_ready_to_pay"]) == (
        EMAIL,
        "open",
        True,
    )
    assert [checkout[name]["amount"] for name in ("subtotal", "shipping", "tax", "total")] == [
        7000,
        0,
        1400,
        8400,
    ]

    # when it pays with a card that asks for 3-D Secure, under an Idempotency-Key
    payment = {
        "payment_method": "test",
        "card": {"number": CARD_3DS, "expiry": expiry(), "cvc": "123"},
        "expected_total": checkout["total"],
    }
    keyed = bearer | {"Idempotency-Key": f"headless-{secrets.token_hex(8)}"}
    complete_path = f"{API}/checkouts/{checkout['id']}/complete"
    completed = client.call("POST", complete_path, payment, keyed)
    action = completed.json()

    # then the order is placed, waiting for the bank, and the customer is sent to its page
    assert completed.status == 200, completed.body
    assert (action["outcome"], action["order"]["status"]) == ("requires_action", "pending_payment")
    assert action["next_action_url"].startswith(f"{server.base_url}/payments/test/challenge/")
    number = action["order"]["number"]
    assert stock_by_sku(app) == {"LAMP-WHITE": 0, "LAMP-BLACK": 4, "MUG-1": 8, "POT-1": 3}

    # when the customer approves on the bank's page, and the storefront asks for the outcome
    bank_page = client.call("GET", action["next_action_url"])
    csrf = _CSRF_FIELD.search(bank_page.text())
    assert csrf is not None, bank_page.text()
    approved = client.call(
        "POST",
        action["next_action_url"],
        form={"decision": "approve", "csrf_token": csrf.group(1)},
    )
    confirmed = client.call(
        "POST", f"{API}/checkouts/{checkout['id']}/payment-confirmation", headers=bearer
    )

    # then the bank sent the customer back to the shop, and the order is paid
    assert bank_page.status == 200
    assert approved.status == 303, approved.body
    # (to the attempt's return address: its order is placed when 3-D Secure begins)
    assert urllib.parse.urlsplit(approved.headers["Location"]).path == (
        f"/checkout/return/checkout:{checkout['id']}:1"
    )
    assert confirmed.status == 200, confirmed.body
    assert (confirmed.json()["outcome"], confirmed.json()["order"]["status"]) == ("paid", "paid")

    # when it lists the customer's orders and reads this one
    listed = client.call("GET", f"{API}/orders", headers=bearer)
    order = client.call("GET", f"{API}/orders/{number}", headers=bearer).json()

    # then it is the one order, paid, with what was bought
    assert listed.status == 200
    assert [
        (item["number"], item["status"], item["total"]["amount"], item["item_count"])
        for item in listed.json()["items"]
    ] == [(number, "paid", 8400, 3)]
    assert listed.json()["next_cursor"] is None
    assert sorted((line["sku"], line["quantity"]) for line in order["lines"]) == [
        ("LAMP-BLACK", 1),
        ("MUG-1", 2),
    ]
    assert (order["payment"]["status"], order["payment"]["card_last4"]) == ("succeeded", "3220")

    # when the storefront, unsure its first request arrived, sends it again with the same key
    replayed = client.call("POST", complete_path, payment, keyed)

    # then it gets the first answer back, and nothing is placed, paid or taken twice
    assert replayed.status == 200
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json() == action
    with app.app_context():
        orders = db.session.execute(sa.select(Order.number, Order.status, Order.email)).all()
        payments = db.session.scalar(sa.select(sa.func.count()).select_from(Payment))
    assert [tuple(row) for row in orders] == [(number, "paid", EMAIL)]
    assert payments == 1
    assert stock_by_sku(app) == {"LAMP-WHITE": 0, "LAMP-BLACK": 4, "MUG-1": 8, "POT-1": 3}
    assert "Traceback" not in server.logs()
