"""US-64 day by day on the staff funnel page, in its CSV and over the staff API
(``GET /api/v1/staff/reports/funnel/days``): who may read them, and the same figures in each."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts.models import Role, User
from funnel.core import clock
from tests.factories.accounts import UserFactory
from tests.reports.helpers import event, journey, text_of
from tests.support.api import problem
from tests.support.api_staff import STAFF, Bearer

pytestmark = [pytest.mark.story("US-64"), pytest.mark.config(TIME_ZONE="America/New_York")]
NOW = datetime(2026, 4, 15, 10, tzinfo=UTC)
PAGES = ["/staff/reports/funnel", "/staff/reports/funnel/days.csv"]
API = f"{STAFF}/reports/funnel/days"
WHO = [
    (Role.CUSTOMER, None, 403),
    (Role.STAFF, None, 403),
    (Role.STAFF, "catalogue,stock,orders,refunds,customers,settings,staff,audit", 403),
    (Role.STAFF, "reports", 200),
    (Role.ADMIN, None, 200),
]
PERIOD = {"from": "2026-04-01", "to": "2026-04-03"}


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    return NOW


def _new_york_days() -> None:
    """In New York (UTC-4 in April): ann visits on 1 and 2 April, bob pays on 2 April just
    before midnight there, cat adds to cart just after it (3 April there)."""
    event("visit", "ann", datetime(2026, 4, 1, 15, tzinfo=UTC))
    event("visit", "ann", datetime(2026, 4, 2, 15, tzinfo=UTC))
    journey("bob", datetime(2026, 4, 3, 3, 59, tzinfo=UTC), "visit", "product_view", "order_paid")
    journey("cat", datetime(2026, 4, 3, 4, 0, tzinfo=UTC), "visit", "add_to_cart")


def day_rows(page: str) -> dict[str, list[str]]:
    """The day-by-day table's rows, by day."""
    section = page.split('id="days-heading"', 1)[1].split("</section>", 1)[0]
    return {
        day: [text_of(cell) for cell in re.findall(r"<td>(.*?)</td>", cells, re.S)]
        for day, cells in re.findall(
            r'<th scope="row">(\d{4}-\d\d-\d\d)</th>(.*?)</tr>', section, re.S
        )
    }


# -- who may read them -------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in")


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize(("role", "groups", "status"), WHO)
def test_who_may_read_the_page_and_file(
    app: Flask, signed_in: Any, role: Role, groups: str | None, status: int, path: str
) -> None:
    user = UserFactory(role=role, permission_groups=groups)
    response = signed_in(user).get(path)
    assert response.status_code == status
    if status == 403:
        assert "Download the days as CSV" not in response.text


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
    problem(client.get(API), 401, "authentication_required")


# -- what they show ----------------------------------------------------------------------------


def test_the_page_shows_each_shop_day_with_a_chart_and_its_table(
    admin_user: User, signed_in: Any, frozen: datetime
) -> None:
    _new_york_days()

    page = signed_in(admin_user).get("/staff/reports/funnel", query_string=PERIOD).text

    # visit, product view, add to cart, checkout started, payment attempted, paid
    assert day_rows(page) == {
        "2026-04-01": ["1", "0", "0", "0", "0", "0"],
        "2026-04-02": ["2", "1", "0", "0", "0", "1"],
        "2026-04-03": ["1", "0", "1", "0", "0", "0"],
    }
    assert 'canvas data-chart="funnel-days-chart-data" id="funnel-days-chart" role="img"' in page
    assert (
        'href="/staff/reports/funnel/days.csv?from=2026-04-01&amp;to=2026-04-03" download>'
        "Download the days as CSV</a>"
    ) in page
    chart = re.search(
        r'<script type="application/json" id="funnel-days-chart-data">(.*?)</script>', page, re.S
    )
    assert chart
    assert '"labels": ["2026-04-01", "2026-04-02", "2026-04-03"]' in chart.group(1)
    assert '{"data": [1, 2, 1], "label": "Visited the shop"}' in chart.group(1)


def test_the_csv_has_a_row_per_day(admin_user: User, signed_in: Any, frozen: datetime) -> None:
    _new_york_days()

    response = signed_in(admin_user).get("/staff/reports/funnel/days.csv", query_string=PERIOD)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="sales-funnel-by-day-2026-04-01-to-2026-04-03.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))
    assert rows == [
        [
            "day",
            "visit_visitors",
            "product_view_visitors",
            "add_to_cart_visitors",
            "checkout_started_visitors",
            "payment_attempted_visitors",
            "order_paid_visitors",
        ],
        ["2026-04-01", "1", "0", "0", "0", "0", "0"],
        ["2026-04-02", "2", "1", "0", "0", "0", "1"],
        ["2026-04-03", "1", "0", "1", "0", "0", "0"],
    ]


def test_the_api_gives_the_same_figures(
    client: FlaskClient, bearer: Bearer, admin_user: User, frozen: datetime
) -> None:
    _new_york_days()

    body = client.get(API, query_string=PERIOD, headers=bearer(admin_user)).get_json()

    assert (body["from"], body["to"], body["time_zone"]) == (
        "2026-04-01",
        "2026-04-03",
        "America/New_York",
    )
    assert [row["day"] for row in body["days"]] == ["2026-04-01", "2026-04-02", "2026-04-03"]
    assert body["days"][1]["visitors"] == {
        "visit": 2,
        "product_view": 1,
        "add_to_cart": 0,
        "checkout_started": 0,
        "payment_attempted": 0,
        "order_paid": 1,
    }
    assert [row["visitors"]["add_to_cart"] for row in body["days"]] == [0, 0, 1]


def test_the_api_and_csv_default_to_the_last_thirty_shop_days(
    client: FlaskClient, bearer: Bearer, admin_user: User, signed_in: Any, frozen: datetime
) -> None:
    body = client.get(API, headers=bearer(admin_user)).get_json()
    assert (body["from"], body["to"], len(body["days"])) == ("2026-03-17", "2026-04-15", 30)
    response = signed_in(admin_user).get("/staff/reports/funnel/days.csv")
    assert len(response.get_data(as_text=True).splitlines()) == 31


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-02-30"}, "from"),
        ({"from": "2026-04-02", "to": "2026-04-01"}, "to"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "to"),
    ],
)
def test_days_that_are_not_right_are_refused(
    client: FlaskClient,
    bearer: Bearer,
    admin_user: User,
    signed_in: Any,
    query: dict[str, str],
    field: str,
) -> None:
    response = client.get(API, query_string=query, headers=bearer(admin_user))
    body = problem(response, 422, response.get_json()["code"])
    assert field in body["fields"]
    page = signed_in(admin_user).get("/staff/reports/funnel/days.csv", query_string=query)
    assert page.status_code == 422
    assert page.headers["Content-Type"].startswith("text/html")
    assert f'aria-describedby="report-{field}-error"' in page.text
