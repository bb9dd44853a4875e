"""Staff API: customers (customers.view): search by email and role, one account."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from funnel.accounts.models import Role, User
from tests.factories.accounts import UserFactory
from tests.factories.orders import place
from tests.support.api import problem
from tests.support.api_staff import ROLES, STAFF, Bearer, headers_for


@pytest.mark.story("US-28", "US-34")
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", ["list", "get"])
def test_customer_operations_need_the_customers_permission(
    client: FlaskClient, bearer: Bearer, role: str, operation: str
) -> None:
    someone = UserFactory(email="someone@example.com")
    path = {"list": f"{STAFF}/customers", "get": f"{STAFF}/customers/{someone.id}"}[operation]

    response = client.get(path, headers=headers_for(role, bearer))

    if role == "anonymous":
        problem(response, 401, "authentication_required")
    elif role == "customer":
        problem(response, 403, "permission_denied")
    else:
        assert response.status_code == 200


@pytest.mark.story("US-34")
def test_staff_search_accounts_by_email_and_role_page_by_page(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    # given three customers and the staff member (newest first: ann3, ann2, bob, ann1)
    first = UserFactory(email="ann1@example.com")
    UserFactory(email="bob@example.com")
    second = UserFactory(email="ann2@example.com", role=Role.STAFF)
    third = UserFactory(email="ann3@example.com", is_email_verified=True)
    headers = bearer(staff_user)

    page = client.get(f"{STAFF}/customers?q=ANN&limit=2", headers=headers).get_json()
    rest = client.get(f"{STAFF}/customers?q=ANN&cursor={page['next_cursor']}", headers=headers)
    customers = client.get(f"{STAFF}/customers?q=ann&role=customer", headers=headers)

    assert [item["email"] for item in page["items"]] == ["ann3@example.com", "ann2@example.com"]
    assert page["items"][0] == {
        "id": third.id,
        "email": "ann3@example.com",
        "role": "customer",
        "is_email_verified": True,
        "created_at": page["items"][0]["created_at"],
        "last_sign_in_at": None,
    }
    assert "password_hash" not in page["items"][0]
    assert rest.get_json() == {"items": [rest.get_json()["items"][0]], "next_cursor": None}
    assert rest.get_json()["items"][0]["id"] == first.id
    assert [item["id"] for item in customers.get_json()["items"]] == [third.id, first.id]
    assert second.id not in [item["id"] for item in customers.get_json()["items"]]


@pytest.mark.story("US-34")
def test_one_account_with_its_order_count(
    client: FlaskClient, bearer: Bearer, staff_user: User, customer: User
) -> None:
    place(email=customer.email, user_id=customer.id)
    place(email=customer.email, user_id=customer.id)
    place(email="guest@example.com")

    response = client.get(f"{STAFF}/customers/{customer.id}", headers=bearer(staff_user))

    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["email"], body["role"], body["order_count"]) == (
        customer.id,
        "customer@example.com",
        "customer",
        2,
    )
    assert set(body) == {
        "id", "email", "role", "is_email_verified", "created_at", "last_sign_in_at",
        "order_count",
    }  # fmt: skip


@pytest.mark.story("US-34", "US-44")
@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        (f"{STAFF}/customers/999999", 404, "user_not_found"),
        (f"{STAFF}/customers?role=owner", 422, "validation_failed"),
        (f"{STAFF}/customers?limit=0", 422, "validation_failed"),
        (f"{STAFF}/customers?cursor=%00", 422, "validation_failed"),
        (f"{STAFF}/customers?q=" + "x" * 255, 422, "validation_failed"),
    ],
)
def test_bad_customer_requests_are_problems(
    client: FlaskClient, bearer: Bearer, staff_user: User, path: str, status: int, code: str
) -> None:
    problem(client.get(path, headers=bearer(staff_user)), status, code)


@pytest.mark.story("US-34", "US-44")
def test_a_huge_customer_id_is_404(client: FlaskClient, bearer: Bearer, staff_user: User) -> None:
    response = client.get(f"{STAFF}/customers/99999999999", headers=bearer(staff_user))

    assert response.status_code == 404


ACTIONS = ("disable", "enable", "password-reset", "verification-email")


@pytest.mark.story("US-28", "US-34")
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_customer_actions_need_the_customers_manage_permission(
    client: FlaskClient, bearer: Bearer, role: str, action: str
) -> None:
    someone = UserFactory(email="someone@example.com")
    looker = UserFactory(email="looker@example.com", role=Role.STAFF, permission_groups="orders")

    response = client.post(
        f"{STAFF}/customers/{someone.id}/{action}", headers=headers_for(role, bearer)
    )
    read_only = client.post(f"{STAFF}/customers/{someone.id}/{action}", headers=bearer(looker))

    problem(read_only, 403, "permission_denied")
    if role == "anonymous":
        problem(response, 401, "authentication_required")
    elif role == "customer":
        problem(response, 403, "permission_denied")
    else:
        assert response.status_code == 200


@pytest.mark.story("US-34")
def test_staff_disable_and_enable_an_account_through_the_api_as_on_its_page(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    # given a customer signed in through the API
    customer = UserFactory(email="carol@example.com")
    token = bearer(customer)
    headers = bearer(staff_user)
    assert client.get("/api/v1/me", headers=token).status_code == 200

    # when staff disable the account, twice, then enable it
    first = client.post(f"{STAFF}/customers/{customer.id}/disable", headers=headers)
    again = client.post(f"{STAFF}/customers/{customer.id}/disable", headers=headers)
    locked_out = client.get("/api/v1/me", headers=token)
    enabled = client.post(f"{STAFF}/customers/{customer.id}/enable", headers=headers)

    # then the first changed it and revoked the customer's token; the second changed nothing
    assert (first.status_code, first.get_json()["changed"]) == (200, True)
    assert first.get_json()["customer"]["email"] == "carol@example.com"
    assert (again.status_code, again.get_json()["changed"]) == (200, False)
    assert locked_out.status_code == 401
    assert enabled.get_json()["changed"] is True


@pytest.mark.story("US-34")
def test_an_admin_cannot_disable_their_own_account_and_unknown_accounts_are_404(
    client: FlaskClient, bearer: Bearer, admin_user: User
) -> None:
    headers = bearer(admin_user)

    own = client.post(f"{STAFF}/customers/{admin_user.id}/disable", headers=headers)
    unknown = client.post(f"{STAFF}/customers/999999/password-reset", headers=headers)

    problem(own, 409, "own_account_protected")
    assert unknown.status_code == 404


@pytest.mark.story("US-34")
def test_staff_send_a_password_reset_and_a_verification_link_by_email(
    client: FlaskClient, bearer: Bearer, staff_user: User, mailbox: Any
) -> None:
    unverified = UserFactory(email="dan@example.com")
    verified = UserFactory(email="eve@example.com", is_email_verified=True)
    headers = bearer(staff_user)

    reset = client.post(f"{STAFF}/customers/{unverified.id}/password-reset", headers=headers)
    link = client.post(f"{STAFF}/customers/{unverified.id}/verification-email", headers=headers)
    nothing = client.post(f"{STAFF}/customers/{verified.id}/verification-email", headers=headers)

    assert (reset.get_json()["changed"], link.get_json()["changed"]) == (True, True)
    assert nothing.get_json()["changed"] is False
    assert sorted(message["To"] for message in mailbox) == ["dan@example.com", "dan@example.com"]
