"""Inventory denial: a script cannot reserve a product away from every other shopper.

Starting a checkout holds stock for a while. One client address may hold at most
``RESERVATION_MAX_SHARE`` percent of a variant's stock through all its checkouts together
(carts, cookies, visitor headers and cart secrets cost a script nothing to renew; an address
does), and attempts to reserve are rate limited per address, shared by the page and the API.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from funnel.catalog.models import Variant
from funnel.checkout.limits import RESERVATIONS_PER_CLIENT
from funnel.extensions import db
from funnel.inventory import queries as inventory_queries
from funnel.inventory.models import StockReservation
from tests.checkout.helpers import add_to_cart, go_to_pay, pay
from tests.factories.catalog import ProductFactory
from tests.support.api import problem
from tests.support.api_carts import CARTS, CHECKOUTS, card, checkout_body, guest_cart

pytestmark = [pytest.mark.story("US-07"), pytest.mark.config(RESERVATION_MAX_SHARE=50)]
SCRIPT_ADDRESS = "127.0.0.66"
SHOPPER_ADDRESS = "127.0.0.77"


def lamp(stock: int) -> Variant:
    """The red Harbour lamp, with ``stock`` units."""
    ProductFactory(
        title="Harbour lamp",
        variants=[{"sku": "LAMP-RED", "stock_quantity": stock, "options": {"Colour": "Red"}}],
    )
    return db.session.scalars(sa.select(Variant).where(Variant.sku == "LAMP-RED")).one()


def client_at(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def api_checkout(client: FlaskClient, variant: Variant, quantity: int, visitor: str) -> Any:
    """A new guest cart holding ``quantity`` of ``variant``, then ``POST /checkouts`` for it,
    under a visitor id of its own (as a script rotating its identity sends)."""
    cart_id, headers = guest_cart(client)
    headers = headers | {"Funnel-Visitor": visitor}
    added = client.post(
        f"{CARTS}/{cart_id}/lines",
        json={"variant_id": variant.id, "quantity": quantity},
        headers=headers,
    )
    assert added.status_code == 201, added.get_data(as_text=True)
    return client.post(CHECKOUTS, json=checkout_body(cart_id), headers=headers), headers


def held(variant: Variant) -> int:
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(StockReservation.quantity), 0)).where(
            StockReservation.variant_id == variant.id
        )
    )


def test_a_script_with_many_carts_holds_at_most_its_share_and_others_still_buy(
    app: Flask,
) -> None:
    # given a variant with 10 in stock, and a script at one address that opens eight guest
    # carts, each with its own cart secret and visitor id, one unit in each
    variant = lamp(10)
    script = client_at(app, SCRIPT_ADDRESS)

    # when it checks out each of them
    answers = [api_checkout(script, variant, 1, f"{number:032x}")[0] for number in range(1, 9)]

    # then five checkouts hold a unit each (half the stock), the other three are refused with
    # a problem that says why, and nothing more is held
    assert [answer.status_code for answer in answers] == [201] * 5 + [409] * 3
    refused = problem(answers[5], 409, "reservation_limit_reached")
    assert refused["lines"] == [
        "Harbour lamp (Red): you already hold all you may of it in other checkouts, "
        "your cart holds 1"
    ]
    assert held(variant) == 5
    assert inventory_queries.available_quantities([variant.id]) == {variant.id: 5}

    # and another shopper still buys the five that are left
    shopper = client_at(app, SHOPPER_ADDRESS)
    started, headers = api_checkout(shopper, variant, 5, "f" * 32)
    assert started.status_code == 201, started.get_data(as_text=True)
    paid = shopper.post(
        f"{CHECKOUTS}/{started.get_json()['id']}/complete",
        json={"payment_method": "test", "card": card()},
        headers=headers,
    )
    assert paid.status_code == 200, paid.get_data(as_text=True)
    assert paid.get_json()["outcome"] == "paid"
    assert db.session.get(Variant, variant.id).stock_quantity == 5


def test_one_cart_asking_for_more_than_the_share_is_refused_by_name(app: Flask) -> None:
    variant = lamp(10)
    client = client_at(app, SCRIPT_ADDRESS)

    refused, _headers = api_checkout(client, variant, 6, "a" * 32)

    body = problem(refused, 409, "reservation_limit_reached")
    assert body["lines"] == ["Harbour lamp (Red): at most 5 more, your cart holds 6"]
    assert held(variant) == 0


def test_the_checkout_page_refuses_past_the_share_with_a_message(app: Flask) -> None:
    # given a browser that already holds 4 of 10 in one checkout
    variant = lamp(10)
    first = client_at(app, SCRIPT_ADDRESS)
    add_to_cart(first, variant, 4)
    go_to_pay(first)

    # when a second browser at the same address starts a checkout of 2 more
    second = client_at(app, SCRIPT_ADDRESS)
    add_to_cart(second, variant, 2)
    response = second.post("/checkout", data={"email": "guest@example.com"})

    # then it is sent back to its cart with a 409 that says what it may still hold
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "at most 1 more, your cart holds 2" in page
    assert held(variant) == 4


def test_the_last_unit_can_always_be_held(app: Flask) -> None:
    # given a variant with one unit left (half of it rounds down to nothing)
    variant = lamp(1)
    browser = client_at(app, SHOPPER_ADDRESS)
    add_to_cart(browser, variant, 1)

    # when a shopper buys it
    response = pay(browser, go_to_pay(browser))

    # then it is sold
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    assert db.session.get(Variant, variant.id).stock_quantity == 0


@pytest.mark.config(RESERVATION_MAX_SHARE=50, RATELIMIT_ENABLED=True)
def test_reservation_attempts_are_limited_per_address_on_the_page_and_the_api(
    app: Flask,
) -> None:
    # given the documented number of attempts per minute from one address, half from the
    # checkout page and half over the API (empty carts: refused, but counted)
    allowed = int(RESERVATIONS_PER_CLIENT.split("/")[0])
    script = client_at(app, SCRIPT_ADDRESS)
    pages = [
        script.post("/checkout", data={"email": "a@example.com"}).status_code
        for _ in range(allowed // 2)
    ]
    calls = []
    for _ in range(allowed - allowed // 2):
        cart_id, headers = guest_cart(script)
        calls.append(script.post(CHECKOUTS, json=checkout_body(cart_id), headers=headers))

    # when it tries once more, from either
    cart_id, headers = guest_cart(script)
    over_api = script.post(CHECKOUTS, json=checkout_body(cart_id), headers=headers)
    over_page = script.post("/checkout", data={"email": "a@example.com"})
    # and it sends a dead bearer token, to the API and to the page
    cart_id, headers = guest_cart(script)
    dead = {"Authorization": "Bearer no-such-token"}
    dead_over_api = script.post(CHECKOUTS, json=checkout_body(cart_id), headers=headers | dead)
    dead_over_page = script.post("/checkout", data={"email": "a@example.com"}, headers=dead)
    # and another address tries
    cart_id, headers = guest_cart(client_at(app, SHOPPER_ADDRESS))
    other = client_at(app, SHOPPER_ADDRESS).post(
        CHECKOUTS, json=checkout_body(cart_id), headers=headers
    )

    # then both are refused until the window ends; the other address has its own allowance
    assert pages == [409] * (allowed // 2)  # no cart: refused, back to it
    assert [call.status_code for call in calls] == [409] * (allowed - allowed // 2)
    problem(over_api, 429, "too_many_requests")
    assert over_page.status_code == 429
    # a dead token reaches nothing over the API: its 401, not counted; the page reads no token
    problem(dead_over_api, 401, "token_invalid_or_expired")
    assert dead_over_page.status_code == 429
    problem(other, 409, "cart_empty")
