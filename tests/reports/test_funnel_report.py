"""US-64: the funnel report's figures, computed by hand from events written with chosen
visitors and instants: distinct visitors per stage over whole shop days, conversion, drop-off,
the period before and the change; days in the shop's time zone, across daylight saving."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from funnel.analytics.models import FunnelStage
from funnel.reports.conversion import funnel_figures, percent
from funnel.reports.errors import InvalidReportPeriod
from funnel.reports.periods import Period, default_period, midnight, shop_today
from funnel.reports.queries import funnel_report
from tests.reports.helpers import event, journey, visitors

pytestmark = pytest.mark.story("US-64")

ALL = tuple(FunnelStage)
TO_CART = ALL[:3]


def test_each_stage_counts_its_distinct_visitors_with_conversion_and_drop_off(
    app: Flask,
) -> None:
    # given on 10 March (UTC shop): four visitors; three view a product, two add to cart,
    # one of them pays; the first also comes back and views again the same day
    day = datetime(2026, 3, 10, 9, tzinfo=UTC)
    journey("ann", day, *ALL)
    journey("ann", day.replace(hour=15), FunnelStage.VISIT, FunnelStage.PRODUCT_VIEW)
    journey("bob", day, *TO_CART)
    journey("cat", day, *ALL[:2])
    journey("dan", day, FunnelStage.VISIT)

    # when the owner reads the funnel of that day
    report = funnel_report(date(2026, 3, 10), date(2026, 3, 10), "UTC")

    # then each stage counts each visitor once
    assert visitors(report) == [4, 3, 2, 1, 1, 1]
    rows = {row.stage: row for row in report.stages}
    visit, view, cart, paid = (
        rows[FunnelStage.VISIT],
        rows[FunnelStage.PRODUCT_VIEW],
        rows[FunnelStage.ADD_TO_CART],
        rows[FunnelStage.ORDER_PAID],
    )
    assert (visit.conversion_from_start, visit.conversion_from_previous, visit.drop_off) == (
        Fraction(1),
        None,
        None,
    )
    assert (view.conversion_from_start, view.conversion_from_previous) == (
        Fraction(3, 4),
        Fraction(3, 4),
    )
    assert (view.drop_off, view.drop_off_rate) == (1, Fraction(1, 4))
    assert (cart.conversion_from_start, cart.conversion_from_previous) == (
        Fraction(1, 2),
        Fraction(2, 3),
    )
    assert (cart.drop_off, percent(cart.drop_off_rate)) == (1, Decimal("33.3"))
    assert (paid.conversion_from_start, paid.conversion_from_previous) == (
        Fraction(1, 4),
        Fraction(1),
    )
    assert percent(cart.conversion_from_previous) == Decimal("66.7")


def test_a_visitor_who_comes_back_on_other_days_counts_once_per_period(app: Flask) -> None:
    # given a visitor who visits on three days of a week, and another on one day
    for day in (2, 4, 6):
        event("visit", "ann", datetime(2026, 3, day, 12, tzinfo=UTC))
    event("visit", "bob", datetime(2026, 3, 4, 12, tzinfo=UTC))

    # then the week counts two visitors, and each day its own
    assert visitors(funnel_report(date(2026, 3, 1), date(2026, 3, 7), "UTC"))[0] == 2
    assert visitors(funnel_report(date(2026, 3, 4), date(2026, 3, 4), "UTC"))[0] == 2
    assert visitors(funnel_report(date(2026, 3, 6), date(2026, 3, 6), "UTC"))[0] == 1


def test_days_are_the_shops_days_in_its_time_zone(app: Flask) -> None:
    # given in Berlin (UTC+2 in summer time): an event at 23:30 UTC on 31 March, which is
    # 01:30 on 1 April there, and one at 21:59 UTC on 1 April (23:59 there)
    event("visit", "late", datetime(2026, 3, 31, 23, 30, tzinfo=UTC))
    event("visit", "night", datetime(2026, 4, 1, 21, 59, tzinfo=UTC))
    event("visit", "next", datetime(2026, 4, 1, 22, 0, tzinfo=UTC))  # 2 April, 00:00 there

    # then 1 April in Berlin holds the first two; in UTC the last two
    berlin = funnel_report(date(2026, 4, 1), date(2026, 4, 1), "Europe/Berlin")
    assert (berlin.start, berlin.end) == (
        datetime(2026, 3, 31, 22, tzinfo=UTC),
        datetime(2026, 4, 1, 22, tzinfo=UTC),
    )
    assert visitors(berlin)[0] == 2
    assert visitors(funnel_report(date(2026, 4, 1), date(2026, 4, 1), "UTC"))[0] == 2
    assert visitors(funnel_report(date(2026, 3, 31), date(2026, 3, 31), "Europe/Berlin"))[0] == 0


def test_a_day_across_a_daylight_saving_change_is_the_whole_local_day(app: Flask) -> None:
    # given Berlin moves its clocks on Sunday 29 March 2026 (a 23-hour day, 23:00 UTC on the
    # 28th to 22:00 UTC on the 29th) and on Sunday 25 October (a 25-hour day)
    event("visit", "first-minute", datetime(2026, 3, 28, 23, 0, tzinfo=UTC))
    event("visit", "last-minute", datetime(2026, 3, 29, 21, 59, tzinfo=UTC))
    event("visit", "monday", datetime(2026, 3, 29, 22, 0, tzinfo=UTC))
    event("visit", "autumn-late", datetime(2026, 10, 25, 22, 59, tzinfo=UTC))  # 23:59 CET

    spring = funnel_report(date(2026, 3, 29), date(2026, 3, 29), "Europe/Berlin")
    autumn = funnel_report(date(2026, 10, 25), date(2026, 10, 25), "Europe/Berlin")

    # then the spring day is 23 hours and holds its two visitors; the autumn one is 25 hours
    assert spring.end - spring.start == datetime(2026, 1, 1, 23) - datetime(2026, 1, 1)
    assert visitors(spring)[0] == 2
    assert (autumn.start, autumn.end) == (
        datetime(2026, 10, 24, 22, tzinfo=UTC),
        datetime(2026, 10, 25, 23, tzinfo=UTC),
    )
    assert visitors(autumn)[0] == 1


def test_the_period_before_has_the_same_length_and_the_change_is_shown(app: Flask) -> None:
    # given two visitors in the week 1-7 March, one of whom pays, and four in 8-14 March
    for name in ("a", "b"):
        event("visit", name, datetime(2026, 3, 3, 10, tzinfo=UTC))
    event("order_paid", "a", datetime(2026, 3, 3, 10, 5, tzinfo=UTC))
    for name in ("c", "d", "e", "f"):
        event("visit", name, datetime(2026, 3, 12, 10, tzinfo=UTC))

    # when the owner reads 8-14 March
    report = funnel_report(date(2026, 3, 8), date(2026, 3, 14), "UTC")

    # then it is compared with 1-7 March: visits doubled (+100 %), payments fell by one
    assert report.previous_period == Period(date(2026, 3, 1), date(2026, 3, 7))
    visit, *_middle, paid = report.stages
    assert (visit.visitors, visit.previous_visitors, visit.change) == (4, 2, 2)
    assert visit.change_rate == Fraction(1)
    assert (paid.visitors, paid.previous_visitors, paid.change, paid.change_rate) == (
        0,
        1,
        -1,
        Fraction(-1),
    )
    assert paid.conversion_from_start == 0


def test_an_empty_period_has_zeros_and_no_rates(app: Flask) -> None:
    report = funnel_report(date(2026, 3, 1), date(2026, 3, 31), "UTC")

    assert visitors(report) == [0] * 6
    for row in report.stages:
        assert (row.conversion_from_start, row.conversion_from_previous, row.change_rate) == (
            None,
            None,
            None,
        )
    assert report.largest == 0


@pytest.mark.parametrize(
    ("first", "last", "field", "message"),
    [
        (date(2026, 3, 2), date(2026, 3, 1), "to", "on or after"),
        (date(2025, 1, 1), date(2026, 1, 2), "to", "At most 366 days"),
        (date(1999, 12, 31), date(2000, 1, 1), "from", "2000-01-01"),
    ],
)
@pytest.mark.backends("sqlite")
def test_days_that_are_no_period_are_refused(
    app: Flask, first: date, last: date, field: str, message: str
) -> None:
    with pytest.raises(InvalidReportPeriod) as raised:
        funnel_report(first, last, "UTC")
    assert message in raised.value.fields[field][0]


@pytest.mark.backends("sqlite")
def test_a_full_leap_year_is_allowed(app: Flask) -> None:
    assert funnel_report(date(2024, 1, 1), date(2024, 12, 31), "UTC").period.days == 366


# -- the pure policies -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fraction", "expected"),
    [
        (Fraction(1, 3), Decimal("33.3")),
        (Fraction(2, 3), Decimal("66.7")),
        (Fraction(1, 8), Decimal("12.5")),
        (Fraction(1, 16), Decimal("6.3")),  # 6.25 rounds half up
        (Fraction(-1, 16), Decimal("-6.3")),
        (Fraction(3, 2), Decimal("150.0")),
        (None, None),
    ],
)
def test_percentages_are_rounded_half_up_for_display(
    fraction: Fraction | None, expected: Decimal | None
) -> None:
    assert percent(fraction) == expected


def test_stages_missing_from_the_counts_count_zero() -> None:
    figures = funnel_figures({FunnelStage.VISIT: 5}, {})
    assert [row.visitors for row in figures] == [5, 0, 0, 0, 0, 0]
    assert figures[1].drop_off == 5
    assert figures[2].conversion_from_previous is None  # nobody at the step before


def test_the_shops_today_and_the_default_thirty_days() -> None:
    zone = ZoneInfo("Pacific/Auckland")
    now = datetime(2026, 12, 6, 12, tzinfo=UTC)  # already 7 December in Auckland
    assert shop_today(now, zone) == date(2026, 12, 7)
    assert default_period(date(2026, 12, 7)) == Period(date(2026, 11, 8), date(2026, 12, 7))
    assert midnight(date(2026, 12, 7), zone) == datetime(2026, 12, 6, 11, tzinfo=UTC)
