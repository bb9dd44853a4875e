"""US-39: each payment method's attempts and how they ended, computed by hand from payments
started at chosen instants; on the sales page, in its CSV and over
``GET /api/v1/staff/reports/payment-methods``, with who may read them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from funnel.accounts.models import Role, User
from funnel.core import clock
from funnel.extensions import db
from funnel.payments.models import Payment, PaymentStatus
from funnel.reports.queries import payment_methods_report
from tests.factories.accounts import UserFactory
from tests.factories.payments import PaymentFactory
from tests.reports.helpers import row_of
from tests.support.api import problem
from tests.support.api_staff import STAFF, Bearer

pytestmark = [
    pytest.mark.story("US-39"),
    pytest.mark.config(PAYMENT_GATEWAYS="test,manual,cod", TIME_ZONE="Europe/Berlin"),
]
CSV = "/staff/reports/payment-methods.csv"
API = f"{STAFF}/reports/payment-methods"
WHO = [
    (Role.CUSTOMER, None, 403),
    (Role.STAFF, None, 403),
    (Role.STAFF, "catalogue,stock,orders,refunds,customers,settings,staff,audit", 403),
    (Role.STAFF, "reports", 200),
    (Role.ADMIN, None, 200),
]
DAY = {"from": "2026-03-10", "to": "2026-03-10"}


@pytest.fixture
def payments(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    instant = [datetime(2026, 3, 10, 12, tzinfo=UTC)]
    monkeypatch.setattr(clock, "utcnow", lambda: instant[0])

    def started(gateway: str, status: PaymentStatus, at: datetime) -> None:
        instant[0] = at
        payment = PaymentFactory(gateway=gateway)
        db.session.execute(update(Payment).where(Payment.id == payment.id).values(status=status))
        db.session.commit()

    # Berlin is UTC+1 on 10 March 2026: it runs 23:00 UTC on the 9th to 23:00 UTC on the 10th
    noon = datetime(2026, 3, 10, 12, tzinfo=UTC)
    for status in (
        PaymentStatus.SUCCEEDED,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.FAILED,
        PaymentStatus.REQUIRES_ACTION,
    ):
        started("test", status, noon)
    started("test", PaymentStatus.FAILED, datetime(2026, 3, 9, 23, 30, tzinfo=UTC))  # 00:30
    started("test", PaymentStatus.FAILED, datetime(2026, 3, 10, 23, 0, tzinfo=UTC))  # the 11th
    started("manual", PaymentStatus.PENDING, noon)
    started("manual", PaymentStatus.CANCELLED, noon)
    started("cod", PaymentStatus.REFUNDED, noon)
    instant[0] = datetime(2026, 3, 12, 9, tzinfo=UTC)


def test_each_method_counts_its_attempts_by_how_they_ended(payments: None) -> None:
    report = payment_methods_report(date(2026, 3, 10), date(2026, 3, 10), "Europe/Berlin")

    assert [
        (m.gateway, m.label, m.attempts, m.paid, m.failed, m.cancelled, m.still_open)
        for m in report.methods
    ] == [
        ("test", "Card (test gateway)", 5, 2, 2, 0, 1),
        ("manual", "Bank transfer", 2, 0, 0, 1, 1),
        ("cod", "Cash on delivery", 1, 1, 0, 0, 0),
    ]
    assert [str(m.failure_rate) for m in report.methods] == ["2/5", "0", "0"]


def test_a_day_without_payments_has_no_methods(app: Flask) -> None:
    report = payment_methods_report(date(2026, 3, 1), date(2026, 3, 1), "UTC")
    assert report.methods == ()


@pytest.mark.parametrize(("role", "groups", "status"), WHO)
def test_who_may_read_the_file_and_the_api(
    client: FlaskClient,
    bearer: Bearer,
    signed_in: Any,
    role: Role,
    groups: str | None,
    status: int,
) -> None:
    user = UserFactory(email="caller@example.com", role=role, permission_groups=groups)
    response = client.get(API, headers=bearer(user))
    if status == 403:
        problem(response, 403, "permission_denied")
    else:
        assert response.status_code == 200
    assert signed_in(user, FlaskClient(client.application)).get(CSV).status_code == status


def test_anonymous_callers_are_refused(client: FlaskClient) -> None:
    problem(client.get(API), 401, "authentication_required")
    response = client.get(CSV)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in")


def test_the_sales_page_its_csv_and_the_api_show_the_same_figures(
    payments: None, client: FlaskClient, bearer: Bearer, admin_user: User, signed_in: Any
) -> None:
    body = client.get(API, query_string=DAY, headers=bearer(admin_user)).get_json()
    browser = signed_in(admin_user)
    page = browser.get("/staff/reports/sales", query_string=DAY).text
    response = browser.get(CSV, query_string=DAY)

    # attempts, paid, failed, cancelled, still open, failure rate
    assert row_of(page, r"Card \(test gateway\)") == ["5", "2", "2", "0", "1", "40.0 %"]
    assert row_of(page, "Bank transfer") == ["2", "0", "0", "1", "1", "0.0 %"]
    assert (
        'href="/staff/reports/payment-methods.csv?from=2026-03-10&amp;to=2026-03-10" download>'
        in page
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))
    assert rows == [
        [
            "method",
            "label",
            "attempts",
            "paid",
            "failed",
            "cancelled",
            "still_open",
            "failure_percent",
        ],
        ["test", "Card (test gateway)", "5", "2", "2", "0", "1", "40.0"],
        ["manual", "Bank transfer", "2", "0", "0", "1", "1", "0.0"],
        ["cod", "Cash on delivery", "1", "1", "0", "0", "0", "0.0"],
    ]
    assert (body["from"], body["to"], body["time_zone"]) == (
        "2026-03-10",
        "2026-03-10",
        "Europe/Berlin",
    )
    assert body["methods"][0] == {
        "method": "test",
        "label": "Card (test gateway)",
        "attempts": 5,
        "paid": 2,
        "failed": 2,
        "cancelled": 0,
        "still_open": 1,
        "failure_rate": 40.0,
    }
    assert [row["method"] for row in body["methods"]] == ["test", "manual", "cod"]


def test_days_that_are_not_right_are_refused(
    client: FlaskClient, bearer: Bearer, admin_user: User, signed_in: Any
) -> None:
    query = {"from": "2026-03-11", "to": "2026-03-10"}
    response = client.get(API, query_string=query, headers=bearer(admin_user))
    assert "to" in problem(response, 422, response.get_json()["code"])["fields"]
    page = signed_in(admin_user).get(CSV, query_string=query)
    assert page.status_code == 422
    assert 'aria-describedby="report-to-error"' in page.text
