"""US-26 and US-33 through the API: a customer asks for a return and reads theirs; staff list
returns by status, read one and move it on; each operation needs its permission."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from funnel.accounts.models import User
from funnel.orders import queries, services
from tests.factories.accounts import UserFactory
from tests.returns.helpers import delivered_order, lines_of, returned_movements, returns_state
from tests.support.api import problem
from tests.support.api_staff import ROLES, STAFF, Bearer, headers_for
from tests.support.mailbox import Mailbox

API = "/api/v1"


@pytest.mark.story("US-26")
def test_a_customer_requests_a_return_and_reads_it(
    client: FlaskClient, bearer: Bearer, customer: User, mailbox: Mailbox
) -> None:
    order = delivered_order(customer)
    first, second = lines_of(order)
    headers = bearer(customer)
    mailbox.clear()

    response = client.post(
        f"{API}/orders/{order.number}/returns",
        json={"lines": [{"order_line_id": first.id, "quantity": 2}], "reason": "Too big"},
        headers=headers,
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    number = f"{order.number}-R1"
    assert (body["number"], body["order_number"], body["status"], body["reason"]) == (
        number,
        order.number,
        "requested",
        "Too big",
    )
    assert [(line["order_line_id"], line["quantity"]) for line in body["lines"]] == [(first.id, 2)]
    assert len(mailbox) == 1
    listed = client.get(f"{API}/orders/{order.number}/returns", headers=headers)
    assert listed.status_code == 200
    assert [item["number"] for item in listed.get_json()["items"]] == [number]
    # the same line again is a problem naming it, and nothing is written
    again = client.post(
        f"{API}/orders/{order.number}/returns",
        json={"lines": [{"order_line_id": first.id, "quantity": 1}], "reason": "Too big"},
        headers=headers,
    )
    body = problem(again, 422, "invalid_return_request")
    assert body["fields"] == {
        f"lines.{first.id}": ["This item is already returned, refunded or in a return request."]
    }
    assert len(returns_state()) == 2
    assert second.id not in {
        line["order_line_id"] for line in listed.get_json()["items"][0]["lines"]
    }


@pytest.mark.story("US-26")
def test_an_api_retry_with_the_same_key_asks_once(
    client: FlaskClient, bearer: Bearer, customer: User
) -> None:
    order = delivered_order(customer)
    first, _ = lines_of(order)
    headers = {**bearer(customer), "Idempotency-Key": "return-retry-1"}
    body = {"lines": [{"order_line_id": first.id, "quantity": 1}], "reason": "Too big"}

    responses = [
        client.post(f"{API}/orders/{order.number}/returns", json=body, headers=headers)
        for _ in range(2)
    ]

    assert [response.status_code for response in responses] == [201, 201]
    assert responses[1].headers["Idempotent-Replayed"] == "true"
    assert returns_state() == [(f"{order.number}-R1", "requested", "", None), (first.id, 1, 0)]


@pytest.mark.story("US-26", "US-44")
@pytest.mark.parametrize("operation", ["get", "post"])
def test_another_customers_order_is_404_through_the_api(
    client: FlaskClient, bearer: Bearer, customer: User, operation: str
) -> None:
    order = delivered_order(UserFactory(email="someone@example.com"))
    first, _ = lines_of(order)

    response = client.open(
        f"{API}/orders/{order.number}/returns",
        method=operation.upper(),
        json={"lines": [{"order_line_id": first.id, "quantity": 1}], "reason": "Mine?"}
        if operation == "post"
        else None,
        headers=bearer(customer),
    )

    problem(response, 404, "order_not_found")
    assert returns_state() == []


@pytest.mark.story("US-26", "US-44")
def test_a_request_outside_the_window_is_a_problem(
    client: FlaskClient, bearer: Bearer, customer: User
) -> None:
    order = delivered_order(customer)
    first, _ = lines_of(order)
    from funnel.accounts.permissions import settings_editor
    from funnel.settings.services import update_settings

    admin = UserFactory(role="admin")
    update_settings(settings_editor(admin), {"return_window_days": 0})

    response = client.post(
        f"{API}/orders/{order.number}/returns",
        json={"lines": [{"order_line_id": first.id, "quantity": 1}], "reason": "Late"},
        headers=bearer(customer),
    )

    body = problem(response, 422, "invalid_return_request")
    assert body["fields"] == {"lines": ["This shop takes no returns online."]}
    assert returns_state() == []


def _requested(order_owner: User | None = None) -> tuple[Any, str]:
    order = delivered_order(order_owner)
    first, second = lines_of(order)
    change = services.request_return(order.number, {first.id: 2, second.id: 1}, reason="Too small")
    return order, change.number


@pytest.mark.story("US-33")
def test_staff_list_read_approve_and_receive_a_return(
    client: FlaskClient, bearer: Bearer, staff_user: User, mailbox: Mailbox
) -> None:
    order, number = _requested()
    first, second = lines_of(order)
    _, other = _requested()
    headers = bearer(staff_user)
    mailbox.clear()

    listed = client.get(f"{STAFF}/returns?status=requested", headers=headers)
    assert listed.status_code == 200
    assert [item["number"] for item in listed.get_json()["items"]] == [number, other]
    one = client.get(f"{STAFF}/returns/{number}", headers=headers).get_json()
    assert (one["status"], one["actions"], one["order_email"]) == (
        "requested",
        ["approved", "rejected"],
        order.email,
    )

    approved = client.post(
        f"{STAFF}/returns/{number}/transitions", json={"to": "approved"}, headers=headers
    )
    assert approved.status_code == 200
    assert (approved.get_json()["changed"], approved.get_json()["return"]["status"]) == (
        True,
        "approved",
    )
    received = client.post(
        f"{STAFF}/returns/{number}/transitions",
        json={
            "to": "received",
            "restock": [
                {"order_line_id": first.id, "quantity": 2},
                {"order_line_id": second.id, "quantity": 1},
            ],
        },
        headers=headers,
    )
    assert received.status_code == 200, received.get_data(as_text=True)
    assert received.get_json()["restocked_units"] == 3
    assert received.get_json()["return"]["status"] == "received"
    assert returned_movements(order) == [
        (first.variant_id, 2, "returned"),
        (second.variant_id, 1, "returned"),
    ]
    assert len(mailbox) == 2
    # a repeat changes nothing: no second restock, no email
    repeat = client.post(
        f"{STAFF}/returns/{number}/transitions",
        json={"to": "received", "restock": [{"order_line_id": first.id, "quantity": 2}]},
        headers=headers,
    )
    assert repeat.get_json()["changed"] is False
    assert len(returned_movements(order)) == 2
    assert len(mailbox) == 2


@pytest.mark.story("US-33", "US-44")
@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"to": "received"}, 409, "invalid_return_transition"),
        ({"to": "refunded"}, 422, "validation_failed"),
        ({"to": "rejected"}, 422, "invalid_order_input"),
        ({"to": "approved", "note": "x" * 501}, 422, "validation_failed"),
    ],
)
def test_a_refused_staff_transition_is_a_problem_and_changes_nothing(
    client: FlaskClient,
    bearer: Bearer,
    staff_user: User,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    _, number = _requested()
    before = returns_state()

    response = client.post(
        f"{STAFF}/returns/{number}/transitions", json=body, headers=bearer(staff_user)
    )

    problem(response, status, code)
    assert returns_state() == before


@pytest.mark.story("US-32", "US-33")
def test_the_staff_api_refunds_a_received_return_and_it_becomes_refunded(
    client: FlaskClient, bearer: Bearer, staff_user: User, admin_user: User
) -> None:
    order, number = _requested()
    first, second = lines_of(order)
    services.move_return(number, "approved", actor_user_id=staff_user.id)
    services.move_return(number, "received", actor_user_id=staff_user.id)

    response = client.post(
        f"{STAFF}/orders/{order.number}/refunds",
        json={
            "lines": [
                {"order_line_id": first.id, "quantity": 2},
                {"order_line_id": second.id, "quantity": 1},
            ],
            "return_number": number,
        },
        headers={**bearer(admin_user), "Idempotency-Key": "refund-the-return"},
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    refund_id = response.get_json()["refund"]["id"]
    read = client.get(f"{STAFF}/returns/{number}", headers=bearer(staff_user)).get_json()
    assert (read["status"], read["refund_id"]) == ("refunded", refund_id)
    assert [refund.id for refund in queries.order_refunds(queries.get_order(order.number))] == [
        refund_id
    ]


# --- the authorisation matrix ---------------------------------------------------------------

STAFF_OPERATIONS = ("list", "get", "transition")


@pytest.mark.story("US-28", "US-33")
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", STAFF_OPERATIONS)
def test_staff_return_operations_need_their_permission(
    client: FlaskClient, bearer: Bearer, role: str, operation: str
) -> None:
    _, number = _requested()
    method, path, body, success = {
        "list": ("GET", f"{STAFF}/returns", None, 200),
        "get": ("GET", f"{STAFF}/returns/{number}", None, 200),
        "transition": ("POST", f"{STAFF}/returns/{number}/transitions", {"to": "approved"}, 200),
    }[operation]
    before = returns_state()

    response = client.open(path, method=method, json=body, headers=headers_for(role, bearer))

    if role == "anonymous":
        problem(response, 401, "authentication_required")
    elif role == "customer":
        problem(response, 403, "permission_denied")
    else:
        assert response.status_code == success, response.get_data(as_text=True)
    if role in {"anonymous", "customer"} or method == "GET":
        assert returns_state() == before


@pytest.mark.story("US-28", "US-33")
def test_staff_without_the_orders_permission_are_refused(
    client: FlaskClient, bearer: Bearer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from funnel.accounts.models import Role
    from funnel.accounts.permissions import ROLE_PERMISSIONS, Permission

    _, number = _requested()
    monkeypatch.setitem(
        ROLE_PERMISSIONS,
        Role.STAFF,
        ROLE_PERMISSIONS[Role.STAFF] - {Permission.ORDERS_VIEW, Permission.ORDERS_FULFIL},
    )
    headers = bearer(UserFactory(role=Role.STAFF))
    before = returns_state()

    for method, path, body in (
        ("GET", f"{STAFF}/returns", None),
        ("GET", f"{STAFF}/returns/{number}", None),
        ("POST", f"{STAFF}/returns/{number}/transitions", {"to": "approved"}),
    ):
        problem(
            client.open(path, method=method, json=body, headers=headers), 403, "permission_denied"
        )
    assert returns_state() == before


@pytest.mark.story("US-26", "US-28")
@pytest.mark.parametrize("operation", ["get", "post"])
def test_the_customer_return_operations_need_a_token(client: FlaskClient, operation: str) -> None:
    order, _ = _requested()
    before = returns_state()

    response = client.open(
        f"{API}/orders/{order.number}/returns",
        method=operation.upper(),
        json={"lines": [{"order_line_id": 1, "quantity": 1}], "reason": "x"}
        if operation == "post"
        else None,
    )

    problem(response, 401, "authentication_required")
    assert returns_state() == before
