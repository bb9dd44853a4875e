"""US-65 over the JSON API: anyone sends feedback (a bearer token notes the account), bad input
is a 422 problem and stores nothing; staff with ``reports.view`` list it and mark it handled."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from funnel.accounts.models import Role
from tests.audit.helpers import entries
from tests.factories.accounts import UserFactory
from tests.feedback.helpers import feedback_state, stored
from tests.support.api import problem

SEND = "/api/v1/feedback"
LIST = "/api/v1/staff/feedback"


@pytest.mark.story("US-65")
def test_anyone_sends_feedback_and_the_query_string_is_dropped(client: FlaskClient) -> None:
    response = client.post(
        SEND,
        json={"message": " Great shop ", "email": "Fan@Example.com", "page": "/search?q=mug"},
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["page"] == "/search"
    assert set(body) == {"id", "page", "created_at"}
    assert feedback_state() == [("Great shop", "fan@example.com", "/search", None, False, None)]


@pytest.mark.story("US-65")
def test_a_bearer_token_notes_the_account_and_a_dead_one_is_refused(
    client: FlaskClient, customer: Any, bearer: Any
) -> None:
    assert client.post(SEND, json={"message": "Hi"}, headers=bearer(customer)).status_code == 201
    dead = client.post(SEND, json={"message": "Hi"}, headers={"Authorization": "Bearer nope"})
    assert dead.status_code == 401
    assert feedback_state() == [("Hi", None, None, customer.id, False, None)]


@pytest.mark.story("US-65")
@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"message": "   "}, "message", "invalid_feedback"),
        ({"message": "Hi\x00"}, "message", "invalid_feedback"),
        ({"message": "Hi", "email": "not-an-address"}, "email", "invalid_feedback"),
        ({"message": ""}, "message", "validation_failed"),
        ({"message": "x" * 2001}, "message", "validation_failed"),
        ({"email": "a@example.com"}, "message", "validation_failed"),
    ],
)
def test_bad_input_is_a_422_problem_and_stores_nothing(
    client: FlaskClient, body: dict[str, str], field: str, code: str
) -> None:
    answer = problem(client.post(SEND, json=body), 422, code)
    assert field in answer["fields"]
    assert feedback_state() == []


@pytest.mark.story("US-65")
@pytest.mark.parametrize("page", ["https://evil.example/x", "//evil.example", "nowhere"])
def test_a_page_off_the_shop_is_not_kept(client: FlaskClient, page: str) -> None:
    response = client.post(SEND, json={"message": "Hi", "page": page})
    assert response.status_code == 201
    assert response.get_json()["page"] is None
    assert feedback_state() == [("Hi", None, None, None, False, None)]


def _headers(role: str, bearer: Any) -> dict[str, str]:
    if role == "anonymous":
        return {}
    account_role = {"customer": Role.CUSTOMER, "admin": Role.ADMIN}.get(role, Role.STAFF)
    user = UserFactory(
        email=f"{role}@example.com",
        role=account_role,
        is_email_verified=True,
        permission_groups="reports" if role == "staff_with_reports" else None,
    )
    return bearer(user)


@pytest.mark.story("US-65")
@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("customer", 403),
        ("staff_without_reports", 403),
        ("staff_with_reports", 200),
        ("admin", 200),
    ],
)
def test_only_staff_with_the_reports_permission_read_and_handle_feedback(
    client: FlaskClient, bearer: Any, role: str, status: int
) -> None:
    feedback_id = stored()
    headers = _headers(role, bearer)

    listed = client.get(LIST, headers=headers)
    handled = client.post(f"{LIST}/{feedback_id}/handled", headers=headers)

    assert (listed.status_code, handled.status_code) == (status, status)
    if status == 200:
        [item] = listed.get_json()["items"]
        assert (item["id"], item["message"], item["is_handled"]) == (
            feedback_id,
            "Love the mugs",
            False,
        )
        assert handled.get_json()["changed"] is True
        assert handled.get_json()["feedback"]["is_handled"] is True
        assert [e["action"] for e in entries()] == ["feedback.handled"]
    else:
        assert feedback_state()[0][4] is False
        assert entries() == []


@pytest.mark.story("US-65")
def test_staff_filter_by_state_and_marking_twice_changes_nothing(
    client: FlaskClient, admin_user: Any, bearer: Any
) -> None:
    older, newer = stored("Older"), stored("Newer")
    headers = bearer(admin_user)
    open_items = client.get(LIST, headers=headers).get_json()["items"]
    assert [item["id"] for item in open_items] == [newer, older]

    client.post(f"{LIST}/{older}/handled", headers=headers)
    again = client.post(f"{LIST}/{older}/handled", headers=headers).get_json()
    assert again["changed"] is False

    handled = client.get(f"{LIST}?state=handled", headers=headers).get_json()["items"]
    assert [item["id"] for item in handled] == [older]
    still_open = client.get(f"{LIST}?state=open", headers=headers).get_json()["items"]
    assert [item["id"] for item in still_open] == [newer]
    assert [e["action"] for e in entries()] == ["feedback.handled"]
    assert client.get(f"{LIST}?state=closed", headers=headers).status_code == 422
    problem(client.post(f"{LIST}/999/handled", headers=headers), 404, "feedback_not_found")
