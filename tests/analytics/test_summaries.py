"""US-74: the funnel's daily summary gives exactly the figures the events give, whatever it
holds: before any run, summarised up to any day of a period, with today's events read live,
with an event written late into a summarised day, and after the shop's time zone changed."""

from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select

from funnel.analytics import batches, daily, queries, services, summaries
from funnel.analytics.models import (
    PRODUCT_STAGES,
    FunnelEvent,
    FunnelStage,
    FunnelVisitorDay,
    LateFunnelEvent,
)
from funnel.core import clock
from funnel.extensions import db

pytestmark = pytest.mark.story("US-74")

BERLIN = ZoneInfo("Europe/Berlin")
# Berlin moves its clocks forward on Sunday 29 March 2026 (a 23-hour day)
FIRST_DAY = date(2026, 3, 26)
LAST_DAY = date(2026, 4, 2)
DAYS = [FIRST_DAY + timedelta(days=offset) for offset in range((LAST_DAY - FIRST_DAY).days + 1)]


def settled_after(day: date, zone: ZoneInfo = BERLIN) -> datetime:
    """An instant at which ``day`` is the last settled day: 11 minutes past the next midnight."""
    return daily.midnight(day + timedelta(days=1), zone) + timedelta(minutes=11)


def write_events(count: int, seed: int) -> None:
    """``count`` events of a dozen visitors over the days (and an hour either side), most
    visitors coming back on other days, at instants near midnight as often as not."""
    chosen = random.Random(seed)
    rows = []
    for _ in range(count):
        day = chosen.choice([FIRST_DAY - timedelta(days=1), *DAYS, LAST_DAY + timedelta(days=1)])
        minutes = chosen.choice([0, 1, 59, 12 * 60, 23 * 60 + 59, chosen.randrange(24 * 60)])
        at = daily.midnight(day, BERLIN) + timedelta(minutes=minutes)
        stage = chosen.choice(list(FunnelStage))
        rows.append(
            FunnelEvent(
                stage=stage,
                visitor_id=f"visitor-{chosen.randrange(12)}",
                product_id=chosen.choice([1, 2, 3, None]) if stage in PRODUCT_STAGES else None,
                occurred_at=at,
            )
        )
    db.session.add_all(rows)
    db.session.commit()


def periods() -> list[tuple[date, date]]:
    return [(first, last) for first in DAYS for last in DAYS[DAYS.index(first) :]]


def pairs_viewed_in(start: datetime, end: datetime) -> set[tuple[str, int]]:
    rows = db.session.execute(
        select(FunnelEvent.visitor_id, FunnelEvent.product_id).where(
            FunnelEvent.stage == FunnelStage.PRODUCT_VIEW,
            FunnelEvent.product_id.is_not(None),
            FunnelEvent.occurred_at >= start,
            FunnelEvent.occurred_at < end,
        )
    )
    return {(visitor, product) for visitor, product in rows}


def pairs_read(first: date, last: date, zone: ZoneInfo) -> set[tuple[str, int]]:
    """Which (visitor, product) of any event's viewed in the days, as the sales report asks."""
    every_pair = (
        select(FunnelEvent.visitor_id, FunnelEvent.product_id)
        .where(FunnelEvent.product_id.is_not(None))
        .distinct()
        .subquery()
    )
    viewed = daily.viewed_in_days(
        every_pair.c.visitor_id, every_pair.c.product_id, first, last, zone
    )
    rows = db.session.execute(select(every_pair).where(viewed))
    return {(visitor, product) for visitor, product in rows}


def figures_from_events(zone: ZoneInfo = BERLIN) -> dict[tuple[date, date], list[object]]:
    """Every period's funnel counted from the events alone: per stage, and per product."""
    figures: dict[tuple[date, date], list[object]] = {}
    for first, last in periods():
        start, end = daily.midnight(first, zone), daily.midnight(last + timedelta(days=1), zone)
        figures[(first, last)] = [
            list(queries.funnel_counts(start, end).values()),
            *(queries.product_visitors(stage, start, end) for stage in PRODUCT_STAGES),
            pairs_viewed_in(start, end),
        ]
    return figures


def figures_read(zone: ZoneInfo = BERLIN) -> dict[tuple[date, date], list[object]]:
    """Every period's funnel as the reports read it (summary, then the events after it)."""
    return {
        (first, last): [
            list(daily.funnel_counts_for_days(first, last, zone).values()),
            *(
                daily.product_visitors_for_days(stage, first, last, zone)
                for stage in PRODUCT_STAGES
            ),
            pairs_read(first, last, zone),
        ]
        for first, last in periods()
    }


def days_read(zone: ZoneInfo = BERLIN) -> list[list[int]]:
    return [list(day.values()) for day in daily.funnel_counts_per_day(FIRST_DAY, LAST_DAY, zone)]


def days_from_events(zone: ZoneInfo = BERLIN) -> list[list[int]]:
    starts = [daily.midnight(day, zone) for day in DAYS]
    counts = queries.funnel_counts_per_bucket(starts, daily.midnight(LAST_DAY + timedelta(1), zone))
    return [list(day.values()) for day in counts]


def test_every_period_counts_the_same_from_the_summary_as_from_the_events(app: Flask) -> None:
    # given a week of events across a daylight-saving change, visitors coming back on many days
    write_events(400, seed=7)
    expected, expected_days = figures_from_events(), days_from_events()
    assert expected[(FIRST_DAY, LAST_DAY)][0][0] == 12  # each visitor once over the week
    assert sum(day[0] for day in expected_days) > 12  # and once on each day they came

    # before any run, and summarised up to each day of the week in turn (the days after it
    # read from the events, a visitor counted in the summarised days not counted again)
    assert daily.summarised_through(BERLIN) is None
    assert (figures_read(), days_read()) == (expected, expected_days)
    for through in (FIRST_DAY, date(2026, 3, 29), date(2026, 3, 31), LAST_DAY):
        run = summaries.summarise("Europe/Berlin", now=settled_after(through))
        assert (run.summarised_through, daily.summarised_through(BERLIN)) == (through, through)
        assert (figures_read(), days_read()) == (expected, expected_days), through


def test_a_day_is_summarised_once_it_has_ended_and_settled(app: Flask) -> None:
    write_events(50, seed=3)
    just_after_midnight = daily.midnight(date(2026, 3, 29), BERLIN) + timedelta(minutes=9)

    run = summaries.summarise("Europe/Berlin", now=just_after_midnight)

    # the 28th ended nine minutes ago: not settled yet, so the summary stops at the 27th
    assert run.summarised_through == date(2026, 3, 27)
    assert summaries.summarise("Europe/Berlin", now=just_after_midnight).days == 0
    later = summaries.summarise("Europe/Berlin", now=just_after_midnight + timedelta(minutes=2))
    assert (later.days, later.summarised_through) == (1, date(2026, 3, 28))


def test_a_view_written_late_into_a_summarised_day_is_added_by_the_next_run(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given ann viewing products on the 27th and the 30th, summarised through the 31st
    for day in (date(2026, 3, 27), date(2026, 3, 30)):
        at = daily.midnight(day, BERLIN) + timedelta(hours=10)
        db.session.add(
            FunnelEvent(
                stage=FunnelStage.PRODUCT_VIEW, visitor_id="ann", product_id=7, occurred_at=at
            )
        )
    db.session.commit()
    summaries.summarise("Europe/Berlin", now=settled_after(date(2026, 3, 31)))

    # when a batch kept while the database was away writes her view of the 28th on 1 April
    now = daily.midnight(date(2026, 4, 1), BERLIN) + timedelta(hours=9)
    monkeypatch.setattr(clock, "utcnow", lambda: now)
    batch = batches.ViewBatch(app, interval=60.0)
    batch.rows = [
        {
            "stage": FunnelStage.PRODUCT_VIEW,
            "visitor_id": "ann",
            "user_id": None,
            "product_id": 7,
            "occurred_at": daily.midnight(date(2026, 3, 28), BERLIN) + timedelta(hours=10),
        }
    ]
    assert batch.write() == 1

    # then the view is noted as late, and the next run adds it where it belongs: the 28th
    # counts her, and the 30th, her next day, still counts her once in a period from the 28th
    assert db.session.scalar(select(func.count()).select_from(LateFunnelEvent)) == 1
    run = summaries.summarise("Europe/Berlin", now=now)
    assert (run.late_events, run.days) == (1, 0)
    assert db.session.scalar(select(func.count()).select_from(LateFunnelEvent)) == 0
    assert (figures_read(), days_read()) == (figures_from_events(), days_from_events())
    views_per_day = [
        day[FunnelStage.PRODUCT_VIEW]
        for day in daily.funnel_counts_per_day(date(2026, 3, 27), date(2026, 3, 31), BERLIN)
    ]
    assert views_per_day == [1, 1, 0, 1, 0]
    viewers = daily.funnel_counts_for_days(date(2026, 3, 28), date(2026, 3, 31), BERLIN)
    assert viewers[FunnelStage.PRODUCT_VIEW] == 1
    assert daily.product_visitors_for_days(
        FunnelStage.PRODUCT_VIEW, date(2026, 3, 28), date(2026, 3, 29), BERLIN
    ) == {7: 1}
    assert daily.product_visitors_for_days(
        FunnelStage.PRODUCT_VIEW, date(2026, 3, 28), date(2026, 3, 31), BERLIN
    ) == {7: 1}


def test_a_view_written_in_time_is_not_late(app: Flask) -> None:
    batch = batches.ViewBatch(app, interval=60.0)
    batch.rows = [
        {
            "stage": FunnelStage.PRODUCT_VIEW,
            "visitor_id": "bob",
            "user_id": None,
            "product_id": None,
            "occurred_at": clock.utcnow() - timedelta(seconds=30),
        }
    ]

    assert batch.write() == 1
    assert db.session.scalar(select(func.count()).select_from(LateFunnelEvent)) == 0


def test_another_time_zone_starts_the_summary_again_in_its_days(app: Flask) -> None:
    # given a summary kept in Berlin's days
    write_events(200, seed=11)
    summaries.summarise("Europe/Berlin", now=settled_after(LAST_DAY))
    assert daily.summarised_through(ZoneInfo("America/New_York")) is None

    # when the shop's time zone becomes New York's
    new_york = ZoneInfo("America/New_York")
    run = summaries.summarise("America/New_York", now=settled_after(LAST_DAY, new_york))

    # then the summary is built again in New York's days, and reads as the events do there
    assert (run.started_again, run.summarised_through) == (True, LAST_DAY)
    assert daily.summarised_through(BERLIN) is None
    assert (figures_read(new_york), days_read(new_york)) == (
        figures_from_events(new_york),
        days_from_events(new_york),
    )


def test_runs_at_the_same_time_summarise_each_day_once(app: Flask) -> None:
    write_events(100, seed=5)
    now = settled_after(LAST_DAY)
    failures: list[BaseException] = []

    def run() -> None:
        with app.app_context():
            try:
                summaries.summarise("Europe/Berlin", now=now)
            except BaseException as error:  # reported by the assertion below
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert daily.summarised_through(BERLIN) == LAST_DAY
    assert (figures_read(), days_read()) == (figures_from_events(), days_from_events())


@pytest.mark.config(ANALYTICS_RETENTION_DAYS=30)
def test_the_summary_forgets_the_days_whose_events_are_gone(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_events(100, seed=2)
    summaries.summarise("Europe/Berlin", now=settled_after(LAST_DAY))
    # 30 days after the 29th: the events before about noon on the 29th (UTC) go
    monkeypatch.setattr(clock, "utcnow", lambda: datetime(2026, 4, 28, 12, tzinfo=UTC))

    services.delete_old_events()

    summarised_days = db.session.scalars(select(FunnelVisitorDay.day).distinct()).all()
    assert min(summarised_days) == date(2026, 3, 28)
    assert db.session.scalar(select(func.min(FunnelEvent.occurred_at))) >= datetime(
        2026, 3, 29, 12, tzinfo=UTC
    )
