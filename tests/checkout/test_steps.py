"""The checkout's steps: what each accepts and refuses, the totals, and the stock held."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel.catalog import services as catalog
from funnel.checkout.models import Checkout
from funnel.core import clock
from funnel.core.money import Money
from funnel.extensions import db
from funnel.inventory import queries as inventory_queries
from tests.checkout.helpers import (
    ADDRESS,
    CARD_3DS,
    CARD_SUCCEEDS,
    add_to_cart,
    count,
    counts,
    go_to_pay,
    orders,
    path_of,
    pay,
    stock_of,
    submit_token_of,
    the_checkout,
)
from tests.factories.accounts import AddressFactory

NOTHING = {"orders": 0, "payments": 0, "movements": 0, "reservations": 0}


def test_an_invalid_email_is_refused_beside_the_field_and_nothing_is_reserved(
    buyer: FlaskClient,
) -> None:
    response = buyer.post("/checkout", data={"email": "not-an-email"})

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="email-error"' in page
    assert 'aria-invalid="true"' in page
    assert (count(Checkout), counts()) == (0, NOTHING)


def test_checking_out_an_empty_cart_goes_back_to_the_cart(client: FlaskClient) -> None:
    shown = client.get("/checkout")
    posted = client.post("/checkout", data={"email": "guest@example.com"})

    assert (shown.status_code, path_of(shown)) == (303, "/cart")
    assert posted.status_code == 409
    assert "Your cart is empty" in posted.get_data(as_text=True)
    assert count(Checkout) == 0


@pytest.mark.story("US-20")
def test_the_address_step_names_every_missing_field_and_a_bad_country(
    buyer: FlaskClient,
) -> None:
    buyer.post("/checkout", data={"email": "guest@example.com"})

    empty = buyer.post("/checkout/address", data={"saved_address": "new"})
    bad_country = buyer.post("/checkout/address", data={**ADDRESS, "country_code": "XX"})

    assert empty.status_code == 422
    page = empty.get_data(as_text=True)
    for message in (
        "Enter the full name.",
        "Enter the first address line.",
        "Enter the city.",
        "Enter the postal code.",
        "Choose a country.",
    ):
        assert message in page
    assert bad_country.status_code == 422
    assert "Choose a country from the list." in bad_country.get_data(as_text=True)
    assert the_checkout().ship_line1 is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"phone": "1" * 33}, "phone", "Use at most 32 characters."),
        ({"phone": "call me"}, "phone", "Enter a phone number: digits, spaces and + ( ) - . only."),
        ({"city": "Bris\x00tol"}, "city", "Remove the control characters from this field."),
    ],
)
def test_the_address_step_applies_the_address_books_rules(
    buyer: FlaskClient, changes: dict[str, str], field: str, message: str
) -> None:
    buyer.post("/checkout", data={"email": "guest@example.com"})

    response = buyer.post("/checkout/address", data={**ADDRESS, **changes})

    assert response.status_code == 422
    assert f'<small id="{field}-error" class="field-error">{message}' in response.get_data(
        as_text=True
    )
    assert the_checkout().ship_line1 is None


def test_an_address_recorded_under_older_rules_is_asked_for_again_and_nothing_is_placed(
    buyer: FlaskClient, mug: Any
) -> None:
    # given a reviewed checkout whose phone was recorded when 40 characters were allowed
    token = go_to_pay(buyer)
    checkout = the_checkout()
    checkout.ship_phone = "1" * 40
    db.session.commit()

    # when the customer pays
    response = pay(buyer, token)

    # then they are sent back to the address step, and nothing is placed or taken
    assert (response.status_code, path_of(response)) == (303, "/checkout/address")
    assert (counts()["orders"], stock_of(mug.id)) == (0, 5)


def test_an_unknown_shipping_method_is_refused(buyer: FlaskClient) -> None:
    buyer.post("/checkout", data={"email": "guest@example.com"})
    buyer.post("/checkout/address", data=ADDRESS)

    response = buyer.post("/checkout/shipping", data={"shipping_method": "teleport"})

    assert response.status_code == 422
    assert "Choose one of the shipping methods." in response.get_data(as_text=True)


def test_skipped_steps_send_the_customer_to_the_step_to_do_first(buyer: FlaskClient) -> None:
    assert path_of(buyer.get("/checkout/pay")) == "/checkout"
    buyer.post("/checkout", data={"email": "guest@example.com"})
    assert path_of(buyer.get("/checkout/shipping")) == "/checkout/address"
    assert path_of(buyer.get("/checkout/review")) == "/checkout/address"
    buyer.post("/checkout/address", data=ADDRESS)
    assert path_of(buyer.get("/checkout/pay")) == "/checkout/review"
    assert path_of(buyer.post("/checkout/pay", data={"payment_method": "manual"})) == (
        "/checkout/review"
    )
    assert counts()["orders"] == 0


@pytest.mark.story("US-20")
@pytest.mark.parametrize(
    ("quantity", "method", "country", "expected"),
    [
        # 2 x 12.00 = 24.00, under the 50.00 threshold: standard 4.99, GB tax 20 %
        (2, "standard", "GB", (2400, 499, 580, 3479)),
        # 5 x 12.00 = 60.00: standard ships free; express does not
        (5, "standard", "GB", (6000, 0, 1200, 7200)),
        (5, "express", "GB", (6000, 1499, 1500, 8999)),
        # Germany 19 %, the US 0 %, Japan (not listed) the default 0 %
        (2, "standard", "DE", (2400, 499, 551, 3450)),
        (2, "express", "US", (2400, 1499, 0, 3899)),
        (2, "standard", "JP", (2400, 499, 0, 2899)),
    ],
)
def test_totals_are_computed_on_the_server(
    client: FlaskClient, mug: Any, quantity: int, method: str, country: str, expected: tuple
) -> None:
    add_to_cart(client, mug, quantity)
    token = go_to_pay(client, address={**ADDRESS, "country_code": country}, method=method)

    pay(client, token, None, gateway="manual")

    [order] = orders()
    assert (order.subtotal_minor, order.shipping_minor, order.tax_minor, order.total_minor) == (
        expected
    )


@pytest.mark.config(DEFAULT_TAX_RATE=1000, TAX_RATES="GB:2000", FREE_SHIPPING_THRESHOLD="off")
def test_the_default_tax_rate_applies_to_countries_not_listed(
    client: FlaskClient, mug: Any
) -> None:
    add_to_cart(client, mug, 5)
    pay(
        client, go_to_pay(client, address={**ADDRESS, "country_code": "JP"}), None, gateway="manual"
    )

    [order] = orders()
    assert (order.shipping_minor, order.tax_minor, order.tax_rate_basis_points) == (499, 650, 1000)


@pytest.mark.story("US-20")
def test_a_price_changed_after_the_review_is_pointed_out_and_nothing_is_placed(
    buyer: FlaskClient, mug: Any
) -> None:
    token = go_to_pay(buyer)
    catalog.update_variant(mug.id, price=Money(1500, "USD"))

    response = pay(buyer, token)

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Your order changed since you reviewed it. Please check it again." in page
    assert "$15.00" in page
    assert (counts()["orders"], stock_of(mug.id)) == (0, 5)


@pytest.mark.story("US-19")
def test_starting_checkout_when_the_stock_is_held_by_another_names_the_short_line(
    app: Flask, mug: Any
) -> None:
    # given a first buyer who started checkout with 4 of the 5 mugs
    first, second = app.test_client(), app.test_client()
    add_to_cart(first, mug, 4)
    add_to_cart(second, mug, 2)
    first.post("/checkout", data={"email": "first@example.com"})

    # when the second starts checkout with 2
    response = second.post("/checkout", data={"email": "second@example.com"})

    # then they are told what is short, on the cart page, and nothing is held for them
    assert response.status_code == 409
    assert "Blue mug (MUG-1): only 1 left, your cart holds 2" in response.get_data(as_text=True)
    assert inventory_queries.available_quantities([mug.id]) == {mug.id: 1}


@pytest.mark.story("US-19")
def test_a_lapsed_reservation_makes_the_stock_available_again(
    app: Flask, mug: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a buyer holding all 5 mugs at the pay step
    first, second = app.test_client(), app.test_client()
    add_to_cart(first, mug, 5)
    token = go_to_pay(first)
    assert second.post("/cart/lines", data={"variant_id": mug.id, "quantity": 1}).status_code == 422

    # when the reservation lapses (15 minutes) and another buyer checks out 3
    later = clock.utcnow() + timedelta(minutes=16)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    add_to_cart(second, mug, 3)
    pay(second, go_to_pay(second, email="second@example.com"), None, gateway="manual")

    # then the second bought 3, and the first's late payment is refused as sold out
    late = pay(first, token)
    assert late.status_code == 409
    assert "only 2 left, your cart holds 5" in late.get_data(as_text=True)
    assert [order.email for order in orders()] == ["second@example.com"]
    assert stock_of(mug.id) == 2


@pytest.mark.story("US-06")
@pytest.mark.story("US-20")
def test_a_signed_in_customer_ships_to_a_saved_address(
    app: Flask, customer: Any, signed_in: Any, mug: Any
) -> None:
    saved = AddressFactory(user_id=customer.id, country_code="DE", is_default_shipping=True)
    client = signed_in(customer)
    add_to_cart(client, mug, 1)

    shown = client.get("/checkout").get_data(as_text=True)
    assert "You are checking out as <strong>customer@example.com</strong>" in shown
    client.post("/checkout", data={})
    page = client.get("/checkout/address").get_data(as_text=True)
    assert f'id="saved-address-{saved.id}" name="saved_address" value="{saved.id}" checked' in page
    assert (
        client.post("/checkout/address", data={"saved_address": str(saved.id)}).status_code == 303
    )
    client.post("/checkout/shipping", data={"shipping_method": "standard"})
    client.post("/checkout/review")
    page = client.get("/checkout/pay").get_data(as_text=True)

    response = pay(client, submit_token_of(page), CARD_SUCCEEDS)

    [order] = orders()
    assert path_of(response) == f"/checkout/complete/{order.number}"
    assert (order.user_id, order.email, order.ship_country_code, order.ship_line1) == (
        customer.id,
        "customer@example.com",
        "DE",
        saved.line1,
    )
    assert order.tax_rate_basis_points == 1900


def test_another_customers_saved_address_is_refused(
    app: Flask, customer: Any, signed_in: Any, mug: Any
) -> None:
    someone_else = AddressFactory()
    client = signed_in(customer)
    add_to_cart(client, mug, 1)
    client.post("/checkout", data={})

    response = client.post("/checkout/address", data={"saved_address": str(someone_else.id)})

    assert response.status_code == 422
    assert "Choose one of your addresses, or a new address." in response.get_data(as_text=True)


def test_the_confirmation_page_is_only_for_the_buyer(
    app: Flask, buyer: FlaskClient, customer: Any, signed_in: Any
) -> None:
    response = pay(buyer, go_to_pay(buyer))
    path = path_of(response)

    assert buyer.get(path).status_code == 200
    assert app.test_client().get(path).status_code == 404
    assert signed_in(customer).get(path).status_code == 404
    assert app.test_client().get(path.replace("complete", "return")).status_code == 404


def test_a_cart_whose_3d_secure_step_was_left_unfinished_is_paid_once_with_another_card(
    app: Flask, buyer: FlaskClient, mug: Any
) -> None:
    # given an order of the cart waiting for 3-D Secure, left unfinished
    pay(buyer, go_to_pay(buyer), CARD_3DS)

    # when the same browser starts the checkout again and pays with another card
    again = buyer.post("/checkout", data={"email": "guest@example.com"})
    paid = pay(buyer, go_to_pay(buyer), CARD_SUCCEEDS)

    # then the same checkout goes on, the unfinished attempt is given up (its order
    # cancelled), and the cart is paid once
    assert (again.status_code, again.headers["Location"]) == (303, "/checkout/address")
    assert paid.status_code == 303
    assert count(Checkout) == 1
    assert [order.status.value for order in orders()] == ["cancelled", "paid"]
