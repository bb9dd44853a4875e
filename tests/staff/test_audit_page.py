"""US-40: admins (and staff given the Audit log group) browse the audit log on ``/staff/audit``:
filtered by staff member, kind of object, object and dates, newest first, paged, before and
after shown readably; reading it changes nothing."""

from __future__ import annotations

import re
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

pytestmark = pytest.mark.story("US-40")


# -- who may read it ---------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    assert client.get("/staff/audit").status_code == 302


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
    app: Flask, signed_in: Any, role: Role, groups: str | None, status: int
) -> None:
    # given an entry and an account of this kind
    audit.record("product.updated", actor_user_id=1, object_type="product", object_id=1)
    user = UserFactory(role=role, permission_groups=groups)

    # when it opens the page
    response = signed_in(user).get("/staff/audit")

    # then only those holding audit.view read it; reading changes nothing
    assert response.status_code == status
    assert count() == 1


def test_the_dashboard_links_to_the_log_for_those_who_may_read_it(
    app: Flask, admin_user: User, staff_user: User, signed_in: Any
) -> None:
    assert 'href="/staff/audit"' in signed_in(admin_user).get("/staff/").text
    assert 'href="/staff/audit"' not in signed_in(staff_user).get("/staff/").text


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


def rows(page: str) -> list[str]:
    """The object cells' ids on the page, top to bottom."""
    return re.findall(r"<td>(?:product|order|category) (\S+?)(?:<br>|</td>)", page)


def test_the_log_filters_by_actor_kind_object_and_dates_newest_first(
    app: Flask, admin_user: User, staff_user: User, signed_in: Any
) -> None:
    # given entries by two people on three days
    _entry_at(datetime(2026, 3, 1, 9, tzinfo=UTC), staff_user.id, "product", "11", "Mug")
    _entry_at(datetime(2026, 3, 2, 9, tzinfo=UTC), admin_user.id, "order", "FN-100", "FN-100")
    _entry_at(datetime(2026, 3, 3, 23, 59, tzinfo=UTC), staff_user.id, "category", "5", "Mugs")
    browser = signed_in(admin_user)

    def shown(query: str) -> list[str]:
        response = browser.get(f"/staff/audit{query}")
        assert response.status_code == 200
        return rows(response.text)

    # then each filter narrows the list, newest first
    assert shown("") == ["5", "FN-100", "11"]
    assert shown(f"?actor={staff_user.id}") == ["5", "11"]
    assert shown("?type=order") == ["FN-100"]
    assert shown("?q=mug") == ["5", "11"]
    assert shown("?q=FN-100") == ["FN-100"]
    assert shown("?from=2026-03-02&to=2026-03-03") == ["5", "FN-100"]
    assert shown("?to=2026-03-01") == ["11"]
    assert shown("?type=product&actor=" + str(admin_user.id)) == []


def test_before_and_after_are_shown_readably(
    app: Flask, admin_user: User, staff_user: User, signed_in: Any
) -> None:
    # given an entry by a staff member
    _entry_at(datetime(2026, 3, 1, 9, tzinfo=UTC), staff_user.id, "product", "11", "Mug")

    # when an admin reads the log
    page = signed_in(admin_user).get("/staff/audit").text

    # then it names the staff member and each field with its values before and after
    assert "staff@example.com" in page
    assert "<dt>title</dt>" in page
    assert "<dd>old → new</dd>" in page
    assert '<time datetime="2026-03-01T09:00:00+00:00">2026-03-01 09:00:00</time>' in page


@pytest.mark.parametrize(
    "query", ["?from=yesterday", "?to=2026-13-01", "?actor=me", "?from=2026-03-02&to=2026-03-01"]
)
def test_wrong_filters_are_a_422_page_not_an_error(
    app: Flask, admin_user: User, signed_in: Any, query: str
) -> None:
    assert signed_in(admin_user).get(f"/staff/audit{query}").status_code == 422


def test_the_log_is_paged(app: Flask, admin_user: User, signed_in: Any) -> None:
    # given 51 entries (a page holds 50)
    for number in range(51):
        audit.record(
            "product.updated", actor_user_id=admin_user.id, object_type="product", object_id=number
        )
    browser = signed_in(admin_user)

    # then the second page holds the oldest, and links back
    first = browser.get("/staff/audit").text
    second = browser.get("/staff/audit?page=2").text
    assert (len(rows(first)), rows(second)) == (50, ["0"])
    assert "Page 1 of 2" in first
    assert 'rel="prev"' in second
