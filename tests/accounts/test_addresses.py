"""US-06: keep an address book."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts import services
from funnel.accounts.errors import AddressNotFound
from funnel.accounts.models import Address, User
from funnel.accounts.postal import PostalAddress
from funnel.extensions import db
from tests.factories.accounts import AddressFactory, UserFactory

VALID = {
    "full_name": "Ann Smith",
    "company": "",
    "line1": "1 High Street",
    "line2": "Flat 2",
    "city": "Bristol",
    "region": "",
    "postal_code": "BS1 4DJ",
    "country_code": "GB",
    "phone": "+44 117 496 0000",
}


def addresses_of(user: User) -> list[Address]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Address).where(Address.user_id == user.id).order_by(Address.id)
        )
    )


def snapshot(user: User) -> list[tuple]:
    return [
        (a.id, a.full_name, a.line1, a.city, a.country_code, a.is_default_shipping)
        for a in addresses_of(user)
    ]


@pytest.mark.story("US-06")
def test_a_customer_adds_an_address_which_becomes_the_default(customer: User, signed_in) -> None:
    browser = signed_in(customer)

    response = browser.post("/account/addresses/new", data=VALID)

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/addresses"
    [address] = addresses_of(customer)
    assert (address.full_name, address.line1, address.line2, address.city) == (
        "Ann Smith",
        "1 High Street",
        "Flat 2",
        "Bristol",
    )
    assert (address.postal_code, address.country_code, address.phone) == (
        "BS1 4DJ",
        "GB",
        "+44 117 496 0000",
    )
    assert address.company is None
    assert address.is_default_shipping is True
    page = browser.get("/account/addresses").text
    assert "1 High Street" in page
    assert "Britain (UK)" in page
    assert "Default shipping address" in page


@pytest.mark.story("US-06")
def test_a_customer_edits_an_address(customer: User, signed_in) -> None:
    address = AddressFactory(user_id=customer.id)
    browser = signed_in(customer)
    form = browser.get(f"/account/addresses/{address.id}/edit")
    assert form.status_code == 200
    assert 'value="Ann Smith"' in form.text

    response = browser.post(
        f"/account/addresses/{address.id}/edit",
        data={**VALID, "city": "Lyon", "postal_code": "69001", "country_code": "fr"},
    )

    assert response.status_code == 302
    [changed] = addresses_of(customer)
    assert (changed.city, changed.postal_code, changed.country_code) == ("Lyon", "69001", "FR")


@pytest.mark.story("US-06")
def test_a_customer_deletes_an_address(customer: User, signed_in) -> None:
    address = AddressFactory(user_id=customer.id)
    browser = signed_in(customer)

    response = browser.post(f"/account/addresses/{address.id}/delete")

    assert response.status_code == 302
    assert addresses_of(customer) == []


@pytest.mark.story("US-06")
def test_choosing_another_default_clears_the_previous_one(customer: User, signed_in) -> None:
    first = AddressFactory(user_id=customer.id, is_default_shipping=True)
    second = AddressFactory(user_id=customer.id)
    browser = signed_in(customer)

    browser.post(f"/account/addresses/{second.id}/default")
    after_button = [(a.id, a.is_default_shipping) for a in addresses_of(customer)]
    browser.post("/account/addresses/new", data={**VALID, "is_default_shipping": "y"})

    assert after_button == [(first.id, False), (second.id, True)]
    assert [a.is_default_shipping for a in addresses_of(customer)] == [False, False, True]


@pytest.mark.story("US-06")
def test_deleting_the_default_makes_the_newest_remaining_address_the_default(
    app: Flask, customer: User
) -> None:
    older = services.add_address(customer.id, PostalAddress(**VALID))
    newer = services.add_address(customer.id, PostalAddress(**VALID))

    services.delete_address(customer.id, older.id)

    assert [(a.id, a.is_default_shipping) for a in addresses_of(customer)] == [(newer.id, True)]


@pytest.mark.story("US-06")
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"full_name": ""}, "full_name", "Enter the full name."),
        ({"line1": "   "}, "line1", "Enter the first address line."),
        ({"city": ""}, "city", "Enter the city."),
        ({"postal_code": ""}, "postal_code", "Enter the postal code."),
        ({"country_code": ""}, "country_code", "Choose a country."),
        ({"country_code": "XX"}, "country_code", "Choose a country from the list"),
        ({"country_code": "GBR"}, "country_code", "Choose a country from the list"),
        ({"phone": "call me maybe"}, "phone", "Enter a phone number"),
        ({"postal_code": "1" * 21}, "postal_code", "Use at most 20 characters."),
        ({"full_name": "A" * 201}, "full_name", "Use at most 200 characters."),
        ({"city": "Bris\x00tol"}, "city", "Remove the control characters"),
    ],
)
def test_each_wrong_field_gets_a_message_beside_it(
    customer: User, signed_in, changes: dict[str, str], field: str, message: str
) -> None:
    browser = signed_in(customer)

    response = browser.post("/account/addresses/new", data={**VALID, **changes})

    assert response.status_code == 422
    assert f'<small id="{field}-error" class="field-error">{message}' in response.text
    assert f'id="{field}" aria-invalid="true"' in response.text or (
        'aria-invalid="true"' in response.text
    )
    assert addresses_of(customer) == []


def test_missing_fields_and_bad_unicode_are_a_422(customer: User, signed_in) -> None:
    browser = signed_in(customer)

    empty = browser.post("/account/addresses/new", data={})
    raw = browser.post(
        "/account/addresses/new",
        data=b"full_name=%FF%FE&line1=%ED%A0%80&city=x&postal_code=1&country_code=%C0",
        content_type="application/x-www-form-urlencoded",
    )

    assert empty.status_code == raw.status_code == 422
    assert addresses_of(customer) == []


def test_the_page_reports_every_wrong_field_at_once(customer: User, signed_in) -> None:
    browser = signed_in(customer)

    response = browser.post(
        "/account/addresses/new",
        data={**VALID, "full_name": " ", "line1": " ", "city": " ", "postal_code": " "}
        | {"country_code": "zz"},
    )

    assert response.status_code == 422
    for field in ("city", "country_code", "full_name", "line1", "postal_code"):
        assert f'<small id="{field}-error" class="field-error">' in response.text
    assert addresses_of(customer) == []


@pytest.mark.story("US-06")
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/account/addresses/{id}/edit"),
        ("POST", "/account/addresses/{id}/edit"),
        ("POST", "/account/addresses/{id}/delete"),
        ("POST", "/account/addresses/{id}/default"),
    ],
)
def test_another_customers_address_is_a_404_and_nothing_changes(
    customer: User, signed_in, method: str, path: str
) -> None:
    # given another customer's address
    other = UserFactory(email="other@example.com")
    theirs = AddressFactory(user_id=other.id, is_default_shipping=False)
    before = snapshot(other)
    browser = signed_in(customer)

    # when the customer tries to reach it
    response = browser.open(
        path.format(id=theirs.id), method=method, data={**VALID, "city": "Hacked"}
    )

    # then it does not exist for them, and it is untouched
    assert response.status_code == 404
    assert snapshot(other) == before
    assert addresses_of(customer) == []


@pytest.mark.parametrize("address_id", ["999999", "99999999999999999999"])
def test_an_unknown_or_huge_address_id_is_a_404(customer: User, signed_in, address_id: str) -> None:
    browser = signed_in(customer)

    assert browser.get(f"/account/addresses/{address_id}/edit").status_code == 404
    assert browser.post(f"/account/addresses/{address_id}/delete").status_code == 404


def test_service_refuses_another_users_address(app: Flask, customer: User) -> None:
    theirs = AddressFactory()

    with pytest.raises(AddressNotFound) as error:
        services.delete_address(customer.id, theirs.id)

    assert (error.value.code, error.value.status) == ("address_not_found", 404)


@pytest.mark.story("US-06")
def test_addresses_need_a_signed_in_customer(client: FlaskClient) -> None:
    response = client.get("/account/addresses")

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/sign-in?next=%2Faccount%2Faddresses"


@pytest.mark.story("US-07")
def test_deleting_an_address_is_post_only(customer: User, signed_in) -> None:
    address = AddressFactory(user_id=customer.id)
    browser = signed_in(customer)

    response = browser.get(f"/account/addresses/{address.id}/delete")

    assert response.status_code == 405
    assert len(addresses_of(customer)) == 1


@pytest.mark.story("US-06")
def test_the_address_book_writes_each_address_as_its_country_does(
    customer: User, signed_in
) -> None:
    # given an American and a German address in the book
    AddressFactory(
        user_id=customer.id,
        line1="1 Market Street",
        city="San Francisco",
        region="CA",
        postal_code="94103",
        country_code="US",
        phone=None,
    )
    AddressFactory(
        user_id=customer.id,
        line1="Unter den Linden 1",
        city="Berlin",
        postal_code="10117",
        country_code="DE",
        phone=None,
    )

    # when the customer opens the address book
    page = signed_in(customer).get("/account/addresses").text

    # then each is laid out as its post writes it, with the country's name
    assert "<address>1 Market Street<br>San Francisco, CA 94103<br>United States</address>" in page
    assert "<address>Unter den Linden 1<br>10117 Berlin<br>Germany</address>" in page
