"""US-40 over the staff API: ``GET /staff/audit`` reads the audit log with the page's filters
(staff member, kind of object, object, days), newest first, by cursor; audit.view only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts.models import Role, User
from funnel.audit import services as audit
from funnel.core import clock
from tests.audit.helpers import count
from tests.factories.accounts import UserFactory
from tests.support.api import problem
from tests.support.api_staff import STAFF, Bearer

pytestmark = pytest.mark.story("US-40")
AUDIT = f"{STAFF}/audit"


def _entry_at(moment: datetime, actor: int, object_type: str, object_id: str, label: str) -> None:
    original = clock.utcnow
    clock.utcnow = lambda: moment  # type: ignore[assignment]
    try:
        audit.record(
            f"{object_type}.updated",
            actor_user_id=actor,
            object_type=object_type,
            object_id=object_id,
            object_label=label,
            before={"title": "old"},
            after={"title": "new"},
        )
    finally:
        clock.utcnow = original  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("role", "groups", "status"),
    [
        (Role.CUSTOMER, None, 403),
        (Role.STAFF, None, 403),  # the staff role's default leaves the log out
        (Role.STAFF, "catalogue,stock,orders,customers,staff", 403),
        (Role.STAFF, "audit", 200),
        (Role.ADMIN, None, 200),
    ],
)
def test_who_may_read_the_log(
    client: FlaskClient, bearer: Bearer, role: Role, groups: str | None, status: int
) -> None:
    # given an entry and an account of this kind
    audit.record("product.updated", actor_user_id=1, object_type="product", object_id=1)
    user = UserFactory(email="caller@example.com", role=role, permission_groups=groups)

    # when it reads the log
    response = client.get(AUDIT, headers=bearer(user))

    # then only those holding audit.view read it; reading changes nothing
    if status == 403:
        problem(response, 403, "permission_denied")
    else:
        assert response.status_code == 200
    assert count() == 1


def test_anonymous_callers_are_asked_for_a_token(client: FlaskClient) -> None:
    problem(client.get(AUDIT), 401, "authentication_required")


def test_entries_newest_first_filtered_and_paged(
    app: Flask, client: FlaskClient, bearer: Bearer, admin_user: User
) -> None:
    # given four changes by two staff members over three days
    _entry_at(datetime(2026, 3, 1, 9, tzinfo=UTC), 7, "product", "11", "Harbour lamp")
    _entry_at(datetime(2026, 3, 2, 9, tzinfo=UTC), 8, "order", "FN-000042", "FN-000042")
    _entry_at(datetime(2026, 3, 2, 18, tzinfo=UTC), 7, "product", "12", "Kettle")
    _entry_at(datetime(2026, 3, 3, 9, tzinfo=UTC), 7, "product", "11", "Harbour lamp")
    headers = bearer(admin_user)

    # when the admin reads by staff member, page by page; by kind and day; and by object
    first = client.get(AUDIT, query_string={"actor_user_id": 7, "limit": 2}, headers=headers)
    rest = client.get(
        AUDIT,
        query_string={"actor_user_id": 7, "cursor": first.get_json()["next_cursor"]},
        headers=headers,
    )
    products_on_the_2nd = client.get(
        AUDIT,
        query_string={
            "object_type": "product",
            "occurred_from": "2026-03-02",
            "occurred_to": "2026-03-02",
        },
        headers=headers,
    )
    lamp = client.get(AUDIT, query_string={"q": "harbour"}, headers=headers)

    # then each answer holds exactly the matching entries, newest first
    page = first.get_json()
    assert [(item["object_id"], item["occurred_at"][:10]) for item in page["items"]] == [
        ("11", "2026-03-03"),
        ("12", "2026-03-02"),
    ]
    assert page["items"][0] == {
        "id": page["items"][0]["id"],
        "occurred_at": page["items"][0]["occurred_at"],
        "actor_user_id": 7,
        "client_address": None,
        "action": "product.updated",
        "object_type": "product",
        "object_id": "11",
        "object_label": "Harbour lamp",
        "before": {"title": "old"},
        "after": {"title": "new"},
    }
    assert [item["occurred_at"][:10] for item in rest.get_json()["items"]] == ["2026-03-01"]
    assert rest.get_json()["next_cursor"] is None
    assert [item["object_id"] for item in products_on_the_2nd.get_json()["items"]] == ["12"]
    assert [item["occurred_at"][:10] for item in lamp.get_json()["items"]] == [
        "2026-03-03",
        "2026-03-01",
    ]


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        (
            {"occurred_from": "2026-03-05", "occurred_to": "2026-03-04"},
            "invalid_audit_filter",
            "occurred_to",
        ),
        ({"occurred_from": "5 March"}, "validation_failed", "occurred_from"),
        ({"actor_user_id": "ann"}, "validation_failed", "actor_user_id"),
        ({"limit": 0}, "validation_failed", "limit"),
    ],
)
def test_a_filter_that_is_not_one_is_a_422_naming_it(
    client: FlaskClient,
    bearer: Bearer,
    admin_user: User,
    query: dict[str, Any],
    code: str,
    field: str,
) -> None:
    response = client.get(AUDIT, query_string=query, headers=bearer(admin_user))

    assert list(problem(response, 422, code)["fields"]) == [field]
