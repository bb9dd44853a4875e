"""US-39: sales by day, week or month, computed by hand from orders paid and refunded at chosen
instants: counted on the shop's days (its time zone, across daylight saving), refunds on the
day they were made, unpaid orders never, money exact per currency."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from funnel.catalog.models import Variant
from funnel.core import clock
from funnel.extensions import db
from funnel.orders import services
from funnel.orders.models import Order
from funnel.orders.services import RefundLineInput
from funnel.reports.buckets import Grouping
from funnel.reports.errors import InvalidReportPeriod
from funnel.reports.queries import sales_report
from funnel.reports.queries.sales import SalesFigures
from tests.factories.catalog import ProductFactory
from tests.factories.orders import pay_by_card, place, start_bank_transfer

pytestmark = pytest.mark.story("US-39")
NEW_YORK = "America/New_York"


@pytest.fixture
def move_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Sets the shop's clock to an instant: what happens next happens then."""
    moment = {"now": datetime(2026, 3, 1, tzinfo=UTC)}
    monkeypatch.setattr(clock, "utcnow", lambda: moment["now"])

    def move(instant: datetime) -> None:
        moment["now"] = instant

    return move


def variant(price: int, sku: str) -> Variant:
    product = ProductFactory(variants=[{"sku": sku, "price": price, "stock_quantity": 100}])
    return db.session.scalars(select(Variant).where(Variant.product_id == product.id)).one()


def paid(lines: list[tuple[Variant, int]], *, shipping: int = 500, tax: int = 0) -> Order:
    order = place(lines, shipping=shipping, tax=tax)
    pay_by_card(order)
    return order


def figures(report: object, currency: str = "GBP") -> dict[str, SalesFigures]:
    """The report's figures per bucket label, in one currency."""
    (sales,) = [row for row in report.currencies if row.currency == currency]  # type: ignore[attr-defined]
    return {row.bucket.label: row.figures for row in sales.rows}


def as_tuple(cell: SalesFigures) -> tuple[int | None, ...]:
    return (
        cell.orders,
        cell.units,
        cell.gross_minor,
        cell.shipping_minor,
        cell.tax_minor,
        cell.refunds_minor,
        cell.net_minor,
        cell.average_minor,
    )


@pytest.mark.config(CURRENCY="GBP")
def test_orders_count_on_the_shop_day_they_were_paid_in_its_time_zone(
    app: Flask, move_clock: Callable[[datetime], None]
) -> None:
    shirt, mug = variant(1250, "SHIRT"), variant(799, "MUG")
    # 9 March 23:30 in New York is 10 March 03:30 UTC: the shop's 9 March
    move_clock(datetime(2026, 3, 10, 3, 30, tzinfo=UTC))
    paid([(shirt, 2)], shipping=500, tax=300)  # 2500 + 500 + 300 = 3300
    # 10 March 09:00 in New York (EDT since 8 March: UTC-4) is 13:00 UTC
    move_clock(datetime(2026, 3, 10, 13, tzinfo=UTC))
    paid([(mug, 1), (shirt, 1)], shipping=0, tax=0)  # 799 + 1250 = 2049
    paid([(mug, 3)], shipping=499, tax=1)  # 2397 + 499 + 1 = 2897
    # placed on the 10th but never paid: no sale
    start_bank_transfer(place([(mug, 5)]))

    report = sales_report(date(2026, 3, 9), date(2026, 3, 11), Grouping.DAY, NEW_YORK, "GBP")

    days = figures(report)
    assert list(days) == ["2026-03-09", "2026-03-10", "2026-03-11"]
    assert as_tuple(days["2026-03-09"]) == (1, 2, 3300, 500, 300, 0, 3300, 3300)
    # two orders: 2049 + 2897 = 4946, the average 2473 exactly
    assert as_tuple(days["2026-03-10"]) == (2, 5, 4946, 499, 1, 0, 4946, 2473)
    assert as_tuple(days["2026-03-11"]) == (0, 0, 0, 0, 0, 0, 0, None)
    (sales,) = report.currencies
    assert as_tuple(sales.total) == (3, 7, 8246, 999, 301, 0, 8246, 2749)  # 2748.67 rounds up


@pytest.mark.config(CURRENCY="GBP")
def test_a_refund_lowers_the_net_of_the_day_it_was_made(
    app: Flask, move_clock: Callable[[datetime], None], admin_user: object
) -> None:
    shirt = variant(1000, "SHIRT")
    move_clock(datetime(2026, 5, 4, 12, tzinfo=UTC))
    first = paid([(shirt, 3)], shipping=500, tax=0)  # 3500
    second = paid([(shirt, 1)], shipping=0, tax=0)  # 1000
    # two days later: a line of the first refunded (one unit: 1000), the second cancelled
    move_clock(datetime(2026, 5, 6, 9, tzinfo=UTC))
    line_id = db.session.scalars(select(Order).where(Order.id == first.id)).one().lines[0].id
    services.refund_order(
        first.number,
        idempotency_key="refund-one-shirt",
        actor_user_id=admin_user.id,  # type: ignore[attr-defined]
        lines=[RefundLineInput(order_line_id=line_id, quantity=1)],
    )
    services.cancel_order(second.number, reason="Changed mind", actor_user_id=admin_user.id)  # type: ignore[attr-defined]

    report = sales_report(date(2026, 5, 4), date(2026, 5, 6), Grouping.DAY, "UTC", "GBP")

    days = figures(report)
    assert as_tuple(days["2026-05-04"]) == (2, 4, 4500, 500, 0, 0, 4500, 2250)
    assert as_tuple(days["2026-05-05"]) == (0, 0, 0, 0, 0, 0, 0, None)
    # 1000 for the shirt and 1000 for the cancelled order: the net of the 6th is negative
    assert as_tuple(days["2026-05-06"]) == (0, 0, 0, 0, 0, 2000, -2000, None)
    (sales,) = report.currencies
    assert (sales.total.gross_minor, sales.total.refunds_minor, sales.total.net_minor) == (
        4500,
        2000,
        2500,
    )
    # a period that starts after the sale sees the refund only
    later = sales_report(date(2026, 5, 6), date(2026, 5, 6), Grouping.DAY, "UTC", "GBP")
    assert as_tuple(later.currencies[0].total) == (0, 0, 0, 0, 0, 2000, -2000, None)


@pytest.mark.config(CURRENCY="EUR")
def test_weeks_run_monday_to_sunday_and_months_are_calendar_months_cut_to_the_period(
    app: Flask, move_clock: Callable[[datetime], None]
) -> None:
    shirt = variant(1000, "SHIRT")
    for day in (date(2026, 1, 30), date(2026, 2, 1), date(2026, 2, 2), date(2026, 2, 10)):
        move_clock(datetime(day.year, day.month, day.day, 12, tzinfo=UTC))
        paid([(shirt, 1)], shipping=0, tax=0)

    # Friday 30 January to Wednesday 11 February
    by_week = sales_report(date(2026, 1, 30), date(2026, 2, 11), Grouping.WEEK, "UTC", "EUR")
    by_month = sales_report(date(2026, 1, 30), date(2026, 2, 11), Grouping.MONTH, "UTC", "EUR")

    weeks = {label: cell.orders for label, cell in figures(by_week, "EUR").items()}
    assert weeks == {
        "2026-01-30 to 2026-02-01": 2,
        "2026-02-02 to 2026-02-08": 1,
        "2026-02-09 to 2026-02-11": 1,
    }
    months = {label: cell.orders for label, cell in figures(by_month, "EUR").items()}
    assert months == {"2026-01-30 to 2026-01-31": 1, "2026-02-01 to 2026-02-11": 3}


@pytest.mark.config(CURRENCY="GBP")
def test_a_shop_without_sales_shows_zeros_in_its_currency(app: Flask) -> None:
    report = sales_report(date(2026, 5, 1), date(2026, 5, 2), Grouping.DAY, "UTC", "GBP")

    (sales,) = report.currencies
    assert sales.currency == "GBP"
    assert [as_tuple(row.figures) for row in sales.rows] == [(0, 0, 0, 0, 0, 0, 0, None)] * 2


def test_days_that_are_no_period_are_refused(app: Flask) -> None:
    with pytest.raises(InvalidReportPeriod) as error:
        sales_report(date(2026, 5, 2), date(2026, 5, 1), Grouping.DAY, "UTC", "GBP")
    assert error.value.fields == {"to": ["The last day comes on or after the first day."]}
