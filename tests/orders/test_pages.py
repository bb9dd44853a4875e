"""The customer's order pages: only their own orders; guests by the signed link only."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts.models import User
from funnel.orders.links import access_key
from funnel.orders.numbers import new_number
from tests.factories.accounts import UserFactory
from tests.factories.inventory import stocked_variant
from tests.factories.orders import pay_by_card, place


def without_csrf_token(page: str) -> str:
    """The page without its CSRF token (signed with a timestamp: it differs by the second)."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", page)


@pytest.mark.story("US-24")
def test_my_orders_are_listed_newest_first(app: Flask, customer: User, signed_in) -> None:
    first = place(email=customer.email, user_id=customer.id)
    second = place(email=customer.email, user_id=customer.id)
    pay_by_card(second)
    place(email="someone@example.com", user_id=UserFactory().id)

    page = signed_in(customer).get("/account/orders")

    assert page.status_code == 200
    text = page.text
    assert text.count('href="/account/orders/FN-') == 2
    assert text.index(second.number) < text.index(first.number)
    assert "<td>Paid</td>" in text
    assert "<td>Awaiting payment</td>" in text
    assert "<td>$28.00</td>" in text


@pytest.mark.story("US-24")
def test_my_orders_are_paginated_twenty_a_page(app: Flask, customer: User, signed_in) -> None:
    variant = stocked_variant(100)
    for _ in range(21):
        place([(variant, 1)], email=customer.email, user_id=customer.id)
    browser = signed_in(customer)

    first_page = browser.get("/account/orders")
    second_page = browser.get("/account/orders?page=2")

    assert first_page.text.count('href="/account/orders/FN-') == 20
    assert "Page 1 of 2" in first_page.text
    assert second_page.text.count('href="/account/orders/FN-') == 1
    assert browser.get("/account/orders?page=zero").status_code == 400


@pytest.mark.story("US-24")
def test_my_order_page_shows_lines_totals_address_payment_and_history(
    app: Flask, customer: User, signed_in
) -> None:
    variant = stocked_variant(10)
    order = place([(variant, 2)], email=customer.email, user_id=customer.id)
    pay_by_card(order)

    page = signed_in(customer).get(f"/account/orders/{order.number}")

    assert page.status_code == 200
    text = page.text
    assert f"<h1>Order {order.number}</h1>" in text
    assert '<mark class="order-status order-status-paid">Paid</mark>' in text
    assert f'<td data-label="SKU">{variant.sku}</td>' in text
    assert '<td data-label="Unit price">$10.00</td>' in text
    assert "<strong>$28.00</strong>" in text
    assert "Shipping (Standard delivery)" in text
    assert "1 High Street<br>" in text
    assert "Flat 2<br>Bristol<br>BS1 4DJ<br>Britain (UK)<br>+44 117 496 0000" in text
    assert "Britain (UK)" in text
    assert "Method: Card (test gateway)" in text
    assert "Payment status: Succeeded" in text
    assert "Awaiting payment → Paid" in text


@pytest.mark.story("US-24")
def test_another_customers_order_is_the_same_404_as_no_order(
    app: Flask, customer: User, signed_in
) -> None:
    other = UserFactory()
    theirs = place(email=other.email, user_id=other.id)
    browser = signed_in(customer)

    someone_elses = browser.get(f"/account/orders/{theirs.number}")
    missing = browser.get(f"/account/orders/{new_number()}")

    assert (someone_elses.status_code, missing.status_code) == (404, 404)
    assert without_csrf_token(someone_elses.text) == without_csrf_token(missing.text)
    assert theirs.number not in someone_elses.text


@pytest.mark.story("US-24")
def test_a_guest_order_is_not_an_account_order(app: Flask, customer: User, signed_in) -> None:
    guest_order = place(email=customer.email, user_id=None)

    assert signed_in(customer).get(f"/account/orders/{guest_order.number}").status_code == 404


@pytest.mark.story("US-24")
def test_a_visitor_is_sent_to_sign_in_for_account_orders(app: Flask, client: FlaskClient) -> None:
    response = client.get("/account/orders")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in?next=")


@pytest.mark.story("US-24")
def test_a_guest_opens_their_order_with_the_signed_link_only(
    app: Flask, client: FlaskClient
) -> None:
    order = place(email="guest@example.com")
    other = place(email="other@example.com")

    good = client.get(f"/orders/{order.number}?key={access_key(order.number)}")
    no_key = client.get(f"/orders/{order.number}")
    wrong_key = client.get(f"/orders/{order.number}?key={access_key(other.number)}")
    forged = client.get(f"/orders/{order.number}?key={access_key(order.number)[:-2]}xx")
    unknown = client.get(f"/orders/{new_number()}?key={access_key(order.number)}")

    assert good.status_code == 200
    assert f"<h1>Order {order.number}</h1>" in good.text
    assert good.headers["Referrer-Policy"] == "no-referrer"
    assert good.headers["Cache-Control"] == "private, no-store"
    assert [r.status_code for r in (no_key, wrong_key, forged, unknown)] == [404] * 4
    assert order.number not in wrong_key.text


@pytest.mark.story("US-24")
def test_a_link_signed_with_another_secret_opens_nothing(app: Flask, client: FlaskClient) -> None:
    order = place()
    from itsdangerous import URLSafeSerializer

    foreign = URLSafeSerializer("another secret", salt="order-access").dumps(order.number)

    assert client.get(f"/orders/{order.number}?key={foreign}").status_code == 404


@pytest.mark.story("US-22")
def test_an_unpaid_bank_transfer_order_shows_the_payment_reference(
    app: Flask, client: FlaskClient
) -> None:
    order = place(gateway="manual")

    page = client.get(f"/orders/{order.number}?key={access_key(order.number)}")

    assert (
        f"Please pay $28.00 by bank transfer with the reference <strong>{order.number}</strong>."
        in page.text
    )
