"""The caller's account over the API: registration, profile, address book (with its matrix)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from funnel.accounts.models import Address, Role, User
from funnel.extensions import db
from tests.factories.accounts import AddressFactory, UserFactory
from tests.support.api import problem
from tests.support.mailbox import Mailbox

ADDRESSES = "/api/v1/me/addresses"
NEW_ADDRESS = {
    "full_name": "Ann Smith",
    "line1": "1 High Street",
    "city": "Bristol",
    "postal_code": "BS1 4DJ",
    "country_code": "gb",
}

Bearer = Callable[..., dict[str, str]]


def _addresses() -> list[tuple[int, int, str, bool]]:
    rows = db.session.execute(
        sa.select(Address.id, Address.user_id, Address.line1, Address.is_default_shipping).order_by(
            Address.id
        )
    )
    return [tuple(row) for row in rows]


def _users() -> list[str]:
    return list(db.session.scalars(sa.select(User.email).order_by(User.id)))


@pytest.mark.story("US-42")
def test_registration_makes_a_customer_and_sends_the_verification_link(
    client: FlaskClient, mailbox: Mailbox
) -> None:
    response = client.post(
        "/api/v1/auth/register",
        json={"email": "New@Example.com", "password": "a long enough passphrase"},
    )

    assert response.status_code == 201
    body = response.get_json()
    assert body["email"] == "new@example.com"
    assert body["role"] == "customer"
    assert body["is_email_verified"] is False
    assert "password" not in body
    assert _users() == ["new@example.com"]
    [message] = mailbox.to("new@example.com")
    assert "/account/verify/" in mailbox.body(message)


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"email": "not an email", "password": "a long enough passphrase"}, 422, "email_invalid",
         "email"),
        ({"email": "new@example.com", "password": "short"}, 422, "password_rejected", "password"),
        ({"email": "new@example.com", "password": "password123"}, 422, "password_rejected",
         "password"),
        ({"email": "new@example.com", "password": " " * 8}, 422, "password_rejected", "password"),
        ({"email": "new@example.com"}, 422, "validation_failed", "password"),
    ],
)  # fmt: skip
def test_registration_follows_the_same_rules_as_the_page(
    client: FlaskClient, body: dict[str, Any], status: int, code: str, field: str
) -> None:
    response = client.post("/api/v1/auth/register", json=body)

    assert list(problem(response, status, code)["fields"]) == [field]
    assert _users() == []


def test_registering_a_taken_email_is_a_409_in_any_letter_case(
    client: FlaskClient, customer: User
) -> None:
    response = client.post(
        "/api/v1/auth/register",
        json={"email": "CUSTOMER@example.com", "password": "a long enough passphrase"},
    )

    problem(response, 409, "email_taken")
    assert _users() == ["customer@example.com"]


@pytest.mark.story("US-42")
def test_me_is_the_tokens_account(client: FlaskClient, bearer: Bearer) -> None:
    staff = UserFactory(email="staff@example.com", role=Role.STAFF)

    response = client.get("/api/v1/me", headers=bearer(staff))

    assert response.status_code == 200
    body = response.get_json()
    assert body == {
        "id": staff.id,
        "email": "staff@example.com",
        "role": "staff",
        "is_email_verified": False,
        "created_at": body["created_at"],
    }
    assert body["created_at"].endswith("+00:00")


def test_a_customer_adds_lists_reads_changes_and_deletes_an_address(
    client: FlaskClient, customer: User, bearer: Bearer
) -> None:
    headers = bearer(customer)

    created = client.post(ADDRESSES, json=NEW_ADDRESS, headers=headers)
    address_id = created.get_json()["id"]
    listed = client.get(ADDRESSES, headers=headers)
    read = client.get(f"{ADDRESSES}/{address_id}", headers=headers)
    patched = client.patch(f"{ADDRESSES}/{address_id}", json={"city": "Bath"}, headers=headers)
    deleted = client.delete(f"{ADDRESSES}/{address_id}", headers=headers)

    assert created.status_code == 201
    assert created.get_json()["country_code"] == "GB"
    assert created.get_json()["is_default_shipping"] is True  # the first address
    assert [item["id"] for item in listed.get_json()["items"]] == [address_id]
    assert read.get_json()["line1"] == "1 High Street"
    assert patched.status_code == 200
    assert (patched.get_json()["city"], patched.get_json()["line1"]) == ("Bath", "1 High Street")
    assert deleted.status_code == 204
    assert _addresses() == []


def test_address_rules_are_the_services_with_a_message_per_field(
    client: FlaskClient, customer: User, bearer: Bearer
) -> None:
    response = client.post(
        ADDRESSES,
        json={**NEW_ADDRESS, "country_code": "XX", "city": "  ", "phone": "call me"},
        headers=bearer(customer),
    )

    body = problem(response, 422, "address_invalid")
    assert sorted(body["fields"]) == ["city", "country_code", "phone"]
    assert _addresses() == []


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("post", "", NEW_ADDRESS),
        ("get", "/{id}", None),
        ("patch", "/{id}", {"city": "Bath"}),
        ("delete", "/{id}", None),
    ],
)
@pytest.mark.parametrize("caller", ["anonymous", "other customer", "staff", "owner"])
def test_address_authorisation_matrix(
    client: FlaskClient,
    customer: User,
    bearer: Bearer,
    caller: str,
    method: str,
    suffix: str,
    body: dict[str, str] | None,
) -> None:
    address = AddressFactory(user_id=customer.id, is_default_shipping=True)
    before = _addresses()
    callers = {
        "anonymous": {},
        "other customer": bearer(UserFactory()),
        "staff": bearer(UserFactory(role=Role.STAFF)),
        "owner": bearer(customer),
    }
    url = ADDRESSES + suffix.format(id=address.id)

    response = getattr(client, method)(url, json=body, headers=callers[caller])

    if caller == "anonymous":
        problem(response, 401, "authentication_required")
    elif caller == "owner":
        assert response.status_code in {200, 201, 204}
        return
    elif suffix:  # someone else's address, staff included: it does not exist for them
        problem(response, 404, "address_not_found")
    elif method == "get":
        assert response.get_json() == {"items": []}
    else:
        assert response.status_code == 201
        assert [row[1] for row in _addresses()].count(customer.id) == 1
        return
    assert _addresses() == before


@pytest.mark.parametrize(
    "path", [f"{ADDRESSES}/99999999999999999999", f"{ADDRESSES}/-1", f"{ADDRESSES}/abc"]
)
def test_impossible_address_ids_are_404(
    client: FlaskClient, customer: User, bearer: Bearer, path: str
) -> None:
    response = client.get(path, headers=bearer(customer))

    problem(response, 404, "not_found")


def test_a_patch_that_changes_nothing_is_refused(
    client: FlaskClient, customer: User, bearer: Bearer
) -> None:
    headers = bearer(customer)
    address_id = client.post(ADDRESSES, json=NEW_ADDRESS, headers=headers).get_json()["id"]

    empty = client.patch(f"{ADDRESSES}/{address_id}", json={}, headers=headers)
    no_body = client.patch(f"{ADDRESSES}/{address_id}", headers=headers)

    assert problem(empty, 422, "validation_failed")["fields"] == {
        "body": ["Send at least one field to change."]
    }
    assert no_body.status_code in (400, 422)
    assert no_body.mimetype == "application/problem+json"
    assert _addresses()[0][2] == "1 High Street"
