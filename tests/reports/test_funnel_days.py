"""US-64: the funnel's stages per shop day, computed by hand from events written with chosen
visitors and instants: each day's distinct visitors at each stage, days cut at the shop's
midnight (across a daylight-saving change), one grouped query whatever the number of days;
and visitors the shop does not track (bots, Do Not Track, staff) are in no day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from funnel.accounts.models import User
from funnel.analytics import summaries
from funnel.analytics.models import FunnelStage
from funnel.catalog.models import Product
from funnel.core import clock
from funnel.extensions import db
from funnel.reports.errors import InvalidReportPeriod
from funnel.reports.queries import funnel_days_report, funnel_report
from tests.factories.catalog import ProductFactory
from tests.reports.helpers import event, journey, visitors

pytestmark = pytest.mark.story("US-64")

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def per_day(report: Any) -> dict[str, list[int]]:
    return {row.day.isoformat(): list(row.visitors) for row in report.days}


def _three_berlin_days() -> None:
    # Berlin moves its clocks forward on Sunday 29 March 2026: 28 March is UTC+1, the 29th
    # runs 23:00 UTC on the 28th to 22:00 UTC on the 29th (23 hours), the 30th is UTC+2
    event("visit", "cat", datetime(2026, 3, 27, 22, 59, tzinfo=UTC))  # 27th, 23:59 there
    event("visit", "ann", datetime(2026, 3, 27, 23, 30, tzinfo=UTC))  # 28th, 00:30
    event("product_view", "ann", datetime(2026, 3, 28, 22, 59, tzinfo=UTC))  # 28th, 23:59
    event("visit", "bob", datetime(2026, 3, 28, 23, 0, tzinfo=UTC))  # 29th, 00:00
    event("visit", "ann", datetime(2026, 3, 29, 9, 0, tzinfo=UTC))  # 29th, back again
    event("visit", "ann", datetime(2026, 3, 29, 21, 59, tzinfo=UTC))  # 29th, 23:59, thrice
    event("add_to_cart", "bob", datetime(2026, 3, 29, 22, 0, tzinfo=UTC))  # 30th, 00:00
    journey("dan", datetime(2026, 3, 30, 21, 59, tzinfo=UTC), "visit", "order_paid")  # 23:59
    event("visit", "eve", datetime(2026, 3, 30, 22, 0, tzinfo=UTC))  # 31st, 00:00


def test_each_shop_day_counts_its_own_distinct_visitors_per_stage(app: Flask) -> None:
    _three_berlin_days()

    report = funnel_days_report(date(2026, 3, 28), date(2026, 3, 30), "Europe/Berlin")

    # visit, product view, add to cart, checkout started, payment attempted, paid
    assert per_day(report) == {
        "2026-03-28": [1, 1, 0, 0, 0, 0],  # ann
        "2026-03-29": [2, 0, 0, 0, 0, 0],  # bob at midnight; ann three times, once
        "2026-03-30": [1, 0, 1, 0, 0, 1],  # bob's cart at midnight; dan at 23:59
    }
    assert (report.start, report.end, report.time_zone) == (
        datetime(2026, 3, 27, 23, tzinfo=UTC),
        datetime(2026, 3, 30, 22, tzinfo=UTC),
        "Europe/Berlin",
    )
    # ann visits on two days and counts on each; over the period, once
    assert visitors(funnel_report(date(2026, 3, 28), date(2026, 3, 30), "Europe/Berlin"))[0] == 3


def test_the_same_events_fall_on_other_days_in_another_time_zone(app: Flask) -> None:
    _three_berlin_days()

    report = funnel_days_report(date(2026, 3, 27), date(2026, 3, 30), "UTC")

    assert per_day(report) == {
        "2026-03-27": [2, 0, 0, 0, 0, 0],  # cat, ann
        "2026-03-28": [1, 1, 0, 0, 0, 0],  # bob; ann's view
        "2026-03-29": [1, 0, 1, 0, 0, 0],  # ann; bob's cart
        "2026-03-30": [2, 0, 0, 0, 0, 1],  # dan, eve
    }


def test_days_without_visitors_are_rows_of_zeros(app: Flask) -> None:
    event("visit", "ann", datetime(2026, 5, 3, 12, tzinfo=UTC))

    report = funnel_days_report(date(2026, 5, 1), date(2026, 5, 4), "UTC")

    assert [row.day for row in report.days] == [date(2026, 5, day) for day in (1, 2, 3, 4)]
    assert per_day(report)["2026-05-03"] == [1, 0, 0, 0, 0, 0]
    assert per_day(report)["2026-05-01"] == [0] * 6
    assert report.days[2].of(FunnelStage.VISIT) == 1


def test_a_long_period_is_one_grouped_query(app: Flask, sql_statements: list[str]) -> None:
    # given a visitor on the first and the last of 366 days (a leap year)
    event("visit", "ann", datetime(2024, 1, 1, 0, 0, tzinfo=UTC))
    event("visit", "ann", datetime(2024, 12, 31, 23, 59, tzinfo=UTC))
    sql_statements.clear()

    report = funnel_days_report(date(2024, 1, 1), date(2024, 12, 31), "America/New_York")

    # how far the daily summary goes (nowhere yet), then the events, grouped by the database
    assert len(sql_statements) == 2
    assert "funnel_summary_state" in sql_statements[0]
    assert "GROUP BY" in sql_statements[1]
    assert "funnel_events" in sql_statements[1]
    counts = [row.visitors[0] for row in report.days]
    # 00:00 UTC on 1 January is 31 December 19:00 in New York: before the period
    assert (len(counts), sum(counts), counts[-1]) == (366, 1, 1)

    # once the year is summarised, the days are counted from the summary alone (US-74)
    summaries.summarise("America/New_York", now=datetime(2025, 1, 2, tzinfo=UTC))
    sql_statements.clear()
    summarised = funnel_days_report(date(2024, 1, 1), date(2024, 12, 31), "America/New_York")
    assert len(sql_statements) == 2
    assert "GROUP BY" in sql_statements[1]
    assert "funnel_events" not in sql_statements[1]
    assert summarised.days == report.days


@pytest.mark.backends("sqlite")
def test_days_that_are_no_period_are_refused(app: Flask) -> None:
    with pytest.raises(InvalidReportPeriod) as raised:
        funnel_days_report(date(2026, 3, 2), date(2026, 3, 1), "UTC")
    assert "on or after" in raised.value.fields["to"][0]


def test_visitors_the_shop_does_not_track_are_on_no_day(
    app: Flask,
    client: FlaskClient,
    staff_user: User,
    signed_in: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(clock, "utcnow", lambda: datetime(2026, 6, 10, 12, tzinfo=UTC))
    ProductFactory(title="Mug", variants=[{"sku": "MUG", "price": 900, "stock_quantity": 3}])
    slug = db.session.scalars(select(Product.slug)).one()

    # given a browser, one asking not to be tracked, a bot and a signed-in member of staff,
    # each opening the shop and the mug's page
    def browse(browser: FlaskClient, user_agent: str, **headers: str) -> None:
        browser.environ_base["HTTP_USER_AGENT"] = user_agent
        for path in ("/", f"/p/{slug}"):
            assert browser.get(path, headers=headers).status_code == 200

    browse(client, BROWSER)
    browse(app.test_client(), BROWSER, DNT="1")
    browse(app.test_client(), BROWSER, **{"Sec-GPC": "1"})
    browse(app.test_client(), "Mozilla/5.0 (compatible; Googlebot/2.1)")
    browse(signed_in(staff_user, app.test_client()), BROWSER)

    # then the day counts the one browser
    report = funnel_days_report(date(2026, 6, 10), date(2026, 6, 10), "UTC")
    assert per_day(report) == {"2026-06-10": [1, 1, 0, 0, 0, 0]}
