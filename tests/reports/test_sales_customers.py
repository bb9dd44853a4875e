"""US-39: new and returning customers in the sales report, computed by hand from orders paid at
chosen instants: a customer (an order's email) is new in the row of their first order ever
paid, returning in a later row, and counted once in the period's total."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask

from funnel.core import clock
from funnel.reports.buckets import Grouping
from funnel.reports.queries import sales_report
from tests.factories.inventory import stocked_variant
from tests.factories.orders import pay_by_card, place

pytestmark = [pytest.mark.story("US-39"), pytest.mark.config(CURRENCY="GBP")]


@pytest.fixture
def orders(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    variant = stocked_variant(50)
    instant = [datetime(2026, 1, 1, tzinfo=UTC)]
    monkeypatch.setattr(clock, "utcnow", lambda: instant[0])

    def paid(email: str, at: datetime, *, pay: bool = True) -> None:
        instant[0] = at
        order = place([(variant, 1)], email=email, shipping=0, tax=0)
        if pay:
            pay_by_card(order)

    # Berlin is UTC+1 in early March 2026; 1 March is a Sunday
    paid("ann@example.com", datetime(2026, 2, 20, 12, tzinfo=UTC))  # before the period
    paid("ann@example.com", datetime(2026, 3, 1, 10, tzinfo=UTC))  # 1 March: returning
    paid("bob@example.com", datetime(2026, 2, 28, 23, 30, tzinfo=UTC))  # 1 March 00:30: new
    paid("bob@example.com", datetime(2026, 3, 1, 12, tzinfo=UTC))  # the same day: still new
    paid("cat@example.com", datetime(2026, 3, 2, 22, 59, tzinfo=UTC))  # 2 March 23:59: new
    paid("bob@example.com", datetime(2026, 3, 2, 23, 0, tzinfo=UTC))  # 3 March 00:00: back
    paid("dan@example.com", datetime(2026, 3, 2, 12, tzinfo=UTC), pay=False)  # never paid


def customers(report: object) -> list[tuple[int, int, int]]:
    (sales,) = report.currencies  # type: ignore[attr-defined]
    return [
        (row.figures.orders, row.figures.new_customers, row.figures.returning_customers)
        for row in sales.rows
    ]


def test_each_day_counts_its_new_and_returning_customers(orders: None) -> None:
    report = sales_report(date(2026, 3, 1), date(2026, 3, 3), Grouping.DAY, "Europe/Berlin", "GBP")

    # orders, new customers, returning customers
    assert customers(report) == [(3, 1, 1), (1, 1, 0), (1, 0, 1)]
    total = report.currencies[0].total
    assert (total.orders, total.new_customers, total.returning_customers) == (5, 2, 1)


def test_a_week_counts_each_customer_once(orders: None) -> None:
    report = sales_report(date(2026, 3, 1), date(2026, 3, 3), Grouping.WEEK, "Europe/Berlin", "GBP")

    # Sunday 1 March alone (bob new, ann back), then Monday and Tuesday (cat new, bob back)
    assert customers(report) == [(3, 1, 1), (2, 1, 1)]


def test_in_utc_the_first_order_falls_on_another_day(orders: None) -> None:
    report = sales_report(date(2026, 3, 1), date(2026, 3, 2), Grouping.DAY, "UTC", "GBP")

    # bob's first order was paid on 28 February in UTC: he returns on 1 and 2 March
    assert customers(report) == [(2, 0, 2), (2, 1, 1)]
    total = report.currencies[0].total
    assert (total.new_customers, total.returning_customers) == (1, 2)
