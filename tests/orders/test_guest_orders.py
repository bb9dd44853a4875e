"""US-61: the orders I placed as a guest join my account once its email is verified."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from funnel.accounts.models import User
from funnel.accounts.tokens import make_verification_token
from funnel.core import clock
from funnel.extensions import db
from funnel.orders import services
from funnel.orders.models import Order
from tests.factories.accounts import UserFactory
from tests.factories.orders import place

Bearer = Callable[..., dict[str, str]]


def owners() -> dict[str, int | None]:
    db.session.expire_all()
    return {order.number: order.user_id for order in db.session.scalars(sa.select(Order))}


def listed_numbers(html: str) -> list[str]:
    return re.findall(r"/account/orders/([A-Z0-9-]+)", html)


@pytest.mark.story("US-61")
def test_guest_orders_show_in_my_orders_once_the_email_is_verified(app: Flask, signed_in) -> None:
    # given two guest orders placed as Ann (in two spellings) and one by someone else
    first = place(email="Ann@Example.com")
    second = place(email="ann@example.com")
    other = place(email="bob@example.com")
    # and Ann registered with that email but has not confirmed it yet
    ann = UserFactory(email="ann@example.com")
    browser = signed_in(ann)

    # when she lists her orders before confirming: none of them is hers yet
    before = browser.get("/account/orders")
    # and after confirming her email with the emailed link
    path = f"/account/verify/{make_verification_token(ann.id, ann.email)}"
    confirmed = browser.post(path)
    after = browser.get("/account/orders")

    # then her two guest orders are in "My orders" and open there; the other is not hers
    assert before.status_code == 200
    assert listed_numbers(before.text) == []
    assert confirmed.status_code == 200
    assert sorted(set(listed_numbers(after.text))) == sorted([first.number, second.number])
    assert owners() == {first.number: ann.id, second.number: ann.id, other.number: None}
    assert browser.get(f"/account/orders/{first.number}").status_code == 200


@pytest.mark.story("US-61")
def test_an_unverified_account_never_gets_the_guest_orders(
    app: Flask, signed_in, bearer: Bearer
) -> None:
    # given a guest order and an unverified account with the same email
    order = place(email="ann@example.com")
    ann = UserFactory(email="ann@example.com")

    # when the account lists its orders on the page and over the API
    page = signed_in(ann).get("/account/orders")
    listed = app.test_client().get("/api/v1/orders", headers=bearer(ann))

    # then nothing is attached, and the order stays out of reach
    assert listed_numbers(page.text) == []
    assert listed.get_json()["items"] == []
    assert owners() == {order.number: None}
    assert signed_in(ann).get(f"/account/orders/{order.number}").status_code == 404


@pytest.mark.story("US-61")
def test_the_api_lists_the_guest_orders_of_a_verified_account(app: Flask, bearer: Bearer) -> None:
    # given a verified account and a guest order placed with its email, another account's order
    ann = UserFactory(email="ann@example.com", is_email_verified=True)
    someone = UserFactory(email="someone@example.com", is_email_verified=True)
    guest = place(email="ANN@example.com")
    owned = place(email="ann@example.com", user_id=someone.id)

    # when Ann lists her orders over the API
    response = app.test_client().get("/api/v1/orders", headers=bearer(ann))

    # then the guest order is hers; an order already on an account is never moved
    assert response.status_code == 200
    assert [item["number"] for item in response.get_json()["items"]] == [guest.number]
    assert owners() == {guest.number: ann.id, owned.number: someone.id}


@pytest.mark.story("US-61")
def test_a_disabled_account_gets_no_guest_orders(app: Flask) -> None:
    ann = UserFactory(email="ann@example.com", is_email_verified=True, disabled_at=clock.utcnow())
    order = place(email="ann@example.com")

    assert services.attach_guest_orders(ann.id) == 0
    assert owners() == {order.number: None}


def test_attaching_again_attaches_nothing_more(app: Flask) -> None:
    ann: User = UserFactory(email="ann@example.com", is_email_verified=True)
    order = place(email="ann@example.com")

    assert services.attach_guest_orders(ann.id) == 1
    assert services.attach_guest_orders(ann.id) == 0
    assert owners() == {order.number: ann.id}
