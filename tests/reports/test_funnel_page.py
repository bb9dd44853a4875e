"""US-64 on the staff dashboard and the staff API: who may read the funnel report, what the
page and ``GET /api/v1/staff/reports/funnel`` show, and days that are not right."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts.models import Role, User
from funnel.analytics.models import FunnelStage
from funnel.core import clock
from tests.factories.accounts import UserFactory
from tests.reports.helpers import event, journey, row_of
from tests.support.api import problem
from tests.support.api_staff import STAFF, Bearer

pytestmark = pytest.mark.story("US-64")
PAGE = "/staff/reports/funnel"
API = f"{STAFF}/reports/funnel"
NOW = datetime(2026, 4, 15, 10, tzinfo=UTC)

WHO = [
    (Role.CUSTOMER, None, 403),
    (Role.STAFF, None, 403),  # the staff role's default leaves the reports out
    (Role.STAFF, "catalogue,stock,orders,refunds,customers,settings,staff,audit", 403),
    (Role.STAFF, "reports", 200),
    (Role.ADMIN, None, 200),
]


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    return NOW


# -- who may read it ---------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in")


@pytest.mark.parametrize(("role", "groups", "status"), WHO)
def test_who_may_read_the_page(
    app: Flask, signed_in: Any, role: Role, groups: str | None, status: int
) -> None:
    user = UserFactory(role=role, permission_groups=groups)
    assert signed_in(user).get(PAGE).status_code == status


def test_anonymous_callers_are_asked_for_a_token(client: FlaskClient) -> None:
    problem(client.get(API), 401, "authentication_required")


@pytest.mark.parametrize(("role", "groups", "status"), WHO)
def test_who_may_call_the_api(
    client: FlaskClient, bearer: Bearer, role: Role, groups: str | None, status: int
) -> None:
    user = UserFactory(email="caller@example.com", role=role, permission_groups=groups)
    response = client.get(API, headers=bearer(user))
    if status == 403:
        problem(response, 403, "permission_denied")
    else:
        assert response.status_code == 200


def test_the_dashboard_links_to_the_report_for_those_who_may_read_it(
    app: Flask, admin_user: User, staff_user: User, signed_in: Any
) -> None:
    analyst = UserFactory(role=Role.STAFF, permission_groups="reports")
    assert f'href="{PAGE}"' in signed_in(admin_user).get("/staff/").text
    assert f'href="{PAGE}"' in signed_in(analyst).get("/staff/").text
    assert f'href="{PAGE}"' not in signed_in(staff_user).get("/staff/").text


def test_the_reports_group_is_offered_when_inviting_staff(admin_user: User, signed_in: Any) -> None:
    page = signed_in(admin_user).get("/staff/team").text
    assert "The sales funnel and sales figures." in page


# -- what it shows -----------------------------------------------------------------------------


def _shop_with_a_month_of_visitors() -> None:
    # 1-15 April: three visitors, two view, one pays; 2-16 March (the 15 days before): one
    april = datetime(2026, 4, 10, 12, tzinfo=UTC)
    journey("ann", april, *FunnelStage)
    journey("bob", april, FunnelStage.VISIT, FunnelStage.PRODUCT_VIEW)
    journey("cat", april, FunnelStage.VISIT)
    event("visit", "old", datetime(2026, 3, 20, 12, tzinfo=UTC))


def test_the_page_shows_each_stage_with_conversion_drop_off_and_change(
    admin_user: User, signed_in: Any, frozen: datetime
) -> None:
    _shop_with_a_month_of_visitors()

    page = signed_in(admin_user).get(PAGE, query_string={"from": "2026-04-01", "to": "2026-04-15"})

    assert page.status_code == 200
    assert "<caption>" in page.text
    # step, visitors, of those who visited, of the step before, dropped off, before, change
    assert row_of(page.text, "Visited the shop") == [
        "3",
        "100.0 %",
        "\N{EN DASH} none",
        "\N{EN DASH} none",
        "1",
        "+2 (+200.0 %)",
    ]
    assert row_of(page.text, "Viewed a product") == [
        "2",
        "66.7 %",
        "66.7 %",
        "1 (33.3 %)",
        "0",
        "+2",
    ]
    assert row_of(page.text, "Paid an order") == ["1", "33.3 %", "100.0 %", "0 (0.0 %)", "0", "+1"]
    # the bars: one per stage, the largest count full
    assert '<progress value="3" max="3" aria-label="Visited the shop: 3 visitors">' in page.text
    assert 'aria-label="Paid an order: 1 visitor"' in page.text
    assert " style=" not in page.text


def test_the_page_defaults_to_the_last_thirty_shop_days(
    admin_user: User, signed_in: Any, frozen: datetime
) -> None:
    _shop_with_a_month_of_visitors()

    page = signed_in(admin_user).get(PAGE).text

    # 15 April 10:00 UTC: the last 30 days are 17 March to 15 April, against 16 Feb - 16 Mar
    assert 'name="from" value="2026-03-17"' in page
    assert 'name="to" value="2026-04-15"' in page
    assert row_of(page, "Visited the shop")[0] == "4"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"from": "2026-02-30", "to": "2026-04-01"}, "from", "A day such as 2026-12-31."),
        ({"from": "yesterday"}, "from", "A day such as 2026-12-31."),
        ({"from": "2026-04-02", "to": "2026-04-01"}, "to", "on or after the first day"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "to", "At most 366 days"),
    ],
)
def test_days_that_are_not_right_are_named_beside_their_field(
    admin_user: User, signed_in: Any, query: dict[str, str], field: str, message: str
) -> None:
    page = signed_in(admin_user).get(PAGE, query_string=query)

    assert page.status_code == 422
    error = re.search(
        rf'<small id="report-{field}-error" class="field-error">(.*?)</small>', page.text
    )
    assert error
    assert message in error.group(1)
    assert f'aria-describedby="report-{field}-error"' in page.text
    assert "<table>" not in page.text


def test_the_api_gives_the_same_figures(
    client: FlaskClient, bearer: Bearer, admin_user: User, frozen: datetime
) -> None:
    _shop_with_a_month_of_visitors()

    body = client.get(
        API, query_string={"from": "2026-04-01", "to": "2026-04-15"}, headers=bearer(admin_user)
    ).get_json()

    assert (body["from"], body["to"], body["days"], body["time_zone"]) == (
        "2026-04-01",
        "2026-04-15",
        15,
        "UTC",
    )
    assert (body["previous_from"], body["previous_to"]) == ("2026-03-17", "2026-03-31")
    stages = {row["stage"]: row for row in body["stages"]}
    assert list(stages) == [stage.value for stage in FunnelStage]
    assert stages["visit"] == {
        "stage": "visit",
        "label": "Visited the shop",
        "visitors": 3,
        "conversion_from_start": 100.0,
        "conversion_from_previous": None,
        "drop_off": None,
        "drop_off_rate": None,
        "previous_visitors": 1,
        "change": 2,
        "change_rate": 200.0,
    }
    assert (
        stages["product_view"]["conversion_from_start"],
        stages["product_view"]["drop_off"],
    ) == (66.7, 1)
    assert stages["order_paid"]["change_rate"] is None


def test_the_api_defaults_to_the_last_thirty_shop_days(
    client: FlaskClient, bearer: Bearer, admin_user: User, frozen: datetime
) -> None:
    body = client.get(API, headers=bearer(admin_user)).get_json()
    assert (body["from"], body["to"], body["days"]) == ("2026-03-17", "2026-04-15", 30)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-02-30"}, "from"),
        ({"from": "2026-04-02", "to": "2026-04-01"}, "to"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "to"),
    ],
)
def test_the_api_refuses_days_that_are_not_right(
    client: FlaskClient, bearer: Bearer, admin_user: User, query: dict[str, str], field: str
) -> None:
    response = client.get(API, query_string=query, headers=bearer(admin_user))
    body = problem(response, 422, response.get_json()["code"])
    assert body["code"] in {"invalid_report_period", "validation_failed"}
    assert field in body["fields"]
