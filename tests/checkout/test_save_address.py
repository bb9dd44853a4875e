"""US-06, US-20: an address typed at checkout can be kept in the address book."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts.models import Address, User
from funnel.extensions import db
from tests.checkout.helpers import ADDRESS, add_to_cart
from tests.factories.accounts import AddressFactory, UserFactory
from tests.factories.inventory import stocked_variant
from tests.support.api_carts import ADDRESS as API_ADDRESS
from tests.support.api_carts import CARTS, CHECKOUTS

Bearer = Callable[..., dict[str, str]]
CHECKBOX = "Save this address to my address book"


def book_of(user: User) -> list[tuple[str, str, str, str, bool]]:
    db.session.expire_all()
    return [
        (row.full_name, row.line1, row.postal_code, row.country_code, row.is_default_shipping)
        for row in db.session.scalars(
            sa.select(Address).where(Address.user_id == user.id).order_by(Address.id)
        )
    ]


def all_addresses() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Address)) or 0


def at_address_step(client: FlaskClient, mug: Any) -> str:
    add_to_cart(client, mug, 1)
    client.post("/checkout", data={"email": "guest@example.com"})
    return client.get("/checkout/address").get_data(as_text=True)


@pytest.mark.story("US-06", "US-20")
def test_a_customer_keeps_a_new_checkout_address_in_the_book_when_they_tick_the_box(
    app: Flask, customer: User, signed_in: Any, mug: Any
) -> None:
    # given a signed-in customer with an empty address book at the address step
    client = signed_in(customer)
    page = at_address_step(client, mug)

    # when they enter a new address and tick the box
    response = client.post("/checkout/address", data={**ADDRESS, "save_to_address_book": "y"})

    # then the box was offered unticked, and the address is now their default in the book
    assert (
        '<input id="save_to_address_book" name="save_to_address_book" type="checkbox" value="y">'
        in page
    )
    assert CHECKBOX in page
    assert response.status_code == 303
    assert book_of(customer) == [("Ann Smith", "1 High Street", "BS1 4DJ", "GB", True)]


@pytest.mark.story("US-06", "US-20")
def test_an_unticked_box_keeps_the_address_for_this_order_only(
    app: Flask, customer: User, signed_in: Any, mug: Any
) -> None:
    client = signed_in(customer)
    at_address_step(client, mug)

    response = client.post("/checkout/address", data=ADDRESS)

    assert response.status_code == 303
    assert book_of(customer) == []


@pytest.mark.story("US-06", "US-20")
def test_an_address_already_in_the_book_is_not_kept_twice(
    app: Flask, customer: User, signed_in: Any, mug: Any
) -> None:
    # given the address is in the book already (written in other capitals)
    AddressFactory(
        user_id=customer.id,
        full_name="ann smith",
        line1="1 HIGH STREET",
        postal_code="BS1 4DJ",
        phone=None,
        is_default_shipping=True,
    )
    client = signed_in(customer)
    at_address_step(client, mug)

    # when they type it again as a new address, tick the box, and do the step twice
    first = client.post("/checkout/address", data={**ADDRESS, "save_to_address_book": "y"})
    again = client.post("/checkout/address", data={**ADDRESS, "save_to_address_book": "y"})

    # then the book still holds it once
    assert (first.status_code, again.status_code) == (303, 303)
    assert book_of(customer) == [("ann smith", "1 HIGH STREET", "BS1 4DJ", "GB", True)]


@pytest.mark.story("US-06", "US-20")
def test_a_saved_address_chosen_at_checkout_is_not_added_again(
    app: Flask, customer: User, signed_in: Any, mug: Any
) -> None:
    saved = AddressFactory(user_id=customer.id, country_code="DE", is_default_shipping=True)
    client = signed_in(customer)
    at_address_step(client, mug)

    response = client.post(
        "/checkout/address",
        data={**ADDRESS, "saved_address": str(saved.id), "save_to_address_book": "y"},
    )

    assert response.status_code == 303
    assert book_of(customer) == [("Ann Smith", saved.line1, "BS1 4DJ", "DE", True)]


@pytest.mark.story("US-20")
def test_a_guest_is_not_offered_the_address_book(client: FlaskClient, mug: Any) -> None:
    page = at_address_step(client, mug)

    response = client.post("/checkout/address", data={**ADDRESS, "save_to_address_book": "y"})

    assert CHECKBOX not in page
    assert response.status_code == 303
    assert all_addresses() == 0


def api_checkout(client: FlaskClient, headers: dict[str, str], **extra: Any) -> int:
    variant_id = _variant_id()
    cart_id = client.post(CARTS, headers=headers).get_json()["id"]
    client.post(
        f"{CARTS}/{cart_id}/lines", json={"variant_id": variant_id, "quantity": 1}, headers=headers
    )
    return client.post(
        CHECKOUTS,
        json={
            "cart_id": cart_id,
            "shipping_address": API_ADDRESS,
            "shipping_method": "standard",
            **extra,
        },
        headers=headers,
    ).status_code


def _variant_id() -> int:
    return stocked_variant(5).id


@pytest.mark.story("US-06", "US-43")
def test_the_api_keeps_the_address_in_the_callers_book_when_asked(
    client: FlaskClient, bearer: Bearer
) -> None:
    kim = UserFactory(email="kim@example.com")
    lee = UserFactory(email="lee@example.com")

    kept = api_checkout(client, bearer(kim), save_to_address_book=True)
    kept_again = api_checkout(client, bearer(kim), save_to_address_book=True)
    not_asked = api_checkout(client, bearer(lee))

    assert (kept, kept_again, not_asked) == (201, 201, 201)
    assert book_of(kim) == [("Ann Smith", "1 High Street", "BS1 4DJ", "GB", True)]
    assert book_of(lee) == []


def test_the_api_refuses_a_save_flag_that_is_not_a_boolean(
    client: FlaskClient, bearer: Bearer
) -> None:
    kim = UserFactory(email="kim@example.com")

    status = api_checkout(client, bearer(kim), save_to_address_book=[1])

    assert status == 422
    assert book_of(kim) == []
