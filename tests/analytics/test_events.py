"""Funnel events: recording, once-only visits, counting, and the retention job."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from funnel.analytics import queries, services, tasks
from funnel.analytics.errors import InvalidFunnelEvent
from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.core import clock
from funnel.core.database import transaction
from funnel.extensions import db

VISITOR = "visitor-aaaaaaaaaaaaaaaa"
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


class Boom(Exception):
    """Raised by a test to make a transaction fail."""


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The clock stands still at ``frozen[0]`` (noon, 10 March 2026); tests move it by
    assigning ``frozen[0]``."""
    now = [NOON]
    monkeypatch.setattr(clock, "utcnow", lambda: now[0])
    return now


def events() -> list[tuple[str, str, int | None, int | None, str | None]]:
    rows = db.session.execute(
        select(
            FunnelEvent.stage,
            FunnelEvent.visitor_id,
            FunnelEvent.user_id,
            FunnelEvent.product_id,
            FunnelEvent.order_reference,
        ).order_by(FunnelEvent.id)
    )
    return [(stage.value, *rest) for stage, *rest in rows]


def event_count() -> int:
    return db.session.scalar(select(func.count()).select_from(FunnelEvent))


@pytest.mark.story("US-37")
def test_an_event_is_stored_with_its_stage_ids_and_time(app: Flask, frozen: list) -> None:
    # when a signed-in visitor views a product, and pays an order
    services.record_event("product_view", VISITOR, user_id=7, product_id=3)
    services.record_event(FunnelStage.ORDER_PAID, VISITOR, user_id=7, order_reference="FN-1")

    # then both steps are stored with their ids, at the current UTC time
    assert events() == [
        ("product_view", VISITOR, 7, 3, None),
        ("order_paid", VISITOR, 7, None, "FN-1"),
    ]
    times = db.session.scalars(select(FunnelEvent.occurred_at)).all()
    assert times == [NOON, NOON]


def test_an_untracked_visitor_records_nothing(app: Flask) -> None:
    # when the edge passes no visitor id (Do Not Track, a bot)
    recorded = services.record_event("add_to_cart", None, product_id=3)
    visited = services.record_visit(None)

    # then nothing is stored
    assert (recorded, visited, event_count()) == (None, False, 0)


@pytest.mark.parametrize(
    ("stage", "visitor_id", "extra"),
    [
        ("bogus", VISITOR, {}),
        ("visit", "", {}),
        ("visit", "v" * 65, {}),
        ("visit", 42, {}),
        ("visit", VISITOR, {"user_id": 0}),
        ("visit", VISITOR, {"product_id": True}),
        ("visit", VISITOR, {"product_id": "3"}),
        ("visit", VISITOR, {"order_reference": "R" * 65}),
        ("visit", VISITOR, {"dedupe_key": ""}),
        ("visit", VISITOR, {"dedupe_key": "k" * 161}),
    ],
)
def test_a_malformed_event_is_refused(app: Flask, stage: str, visitor_id: str, extra: dict) -> None:
    with pytest.raises(InvalidFunnelEvent) as raised:
        services.record_event(stage, visitor_id, **extra)
    assert raised.value.code == "invalid_funnel_event"
    assert event_count() == 0


@pytest.mark.story("US-37")
def test_a_visit_is_recorded_once_per_visitor_and_day(app: Flask, frozen: list) -> None:
    # when a visitor visits twice in a day, another visitor once, then the first the next day
    first = services.record_visit(VISITOR)
    again = services.record_visit(VISITOR, user_id=5)
    other = services.record_visit("visitor-bbbbbbbbbbbbbbbb")
    frozen[0] = NOON + timedelta(days=1)
    next_day = services.record_visit(VISITOR)

    # then three visits are stored: one per visitor and day
    assert (first, again, other, next_day) == (True, False, True, True)
    assert [row[:2] for row in events()] == [
        ("visit", VISITOR),
        ("visit", "visitor-bbbbbbbbbbbbbbbb"),
        ("visit", VISITOR),
    ]


@pytest.mark.story("US-37")
def test_concurrent_requests_record_one_visit(app: Flask) -> None:
    # given 10 requests of the same visitor arriving at once
    results: list[object] = []
    barrier = threading.Barrier(10)

    def request_visit() -> None:
        with app.app_context():
            barrier.wait()
            try:
                results.append(services.record_visit(VISITOR))
            except Exception as error:  # pragma: no cover - reported by the assertion
                results.append(error)

    threads = [threading.Thread(target=request_visit) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then exactly one recorded the visit, the others saw it was there, none failed
    assert sorted(map(str, results)) == ["False"] * 9 + ["True"]
    assert event_count() == 1


def test_a_duplicate_inside_the_callers_transaction_keeps_the_callers_work(app: Flask) -> None:
    # given an order already recorded as paid (say by the confirmation page)
    services.record_event("order_paid", VISITOR, order_reference="FN-1", dedupe_key="paid:FN-1")

    # when a webhook's transaction records it again, then records something else
    with transaction():
        duplicate = services.record_event(
            "order_paid", VISITOR, order_reference="FN-1", dedupe_key="paid:FN-1"
        )
        services.record_event("payment_attempted", VISITOR, order_reference="FN-2")

    # then the duplicate is dropped and the rest of the transaction is kept
    assert duplicate is None
    assert [row[0] for row in events()] == ["order_paid", "payment_attempted"]


def test_an_event_rolls_back_with_the_callers_transaction(app: Flask) -> None:
    # when the step an event describes fails after recording it
    def checkout_that_fails() -> None:
        with transaction():
            services.record_event("checkout_started", VISITOR)
            services.record_visit(VISITOR)
            raise Boom

    with pytest.raises(Boom):
        checkout_that_fails()

    # then neither event was stored
    assert event_count() == 0


@pytest.mark.story("US-37")
def test_funnel_counts_counts_distinct_visitors_per_stage_in_the_period(
    app: Flask, frozen: list
) -> None:
    # given three visitors on 10 March, and one event the day before and one the day after
    def at(hours: float, stage: str, visitor: str, **extra: object) -> None:
        frozen[0] = NOON + timedelta(hours=hours)
        services.record_event(stage, visitor, **extra)

    at(-24, "visit", "before")
    for visitor in ("a", "b", "c"):
        at(-11, "visit", visitor)
    at(-1, "product_view", "a", product_id=1)
    at(-1, "product_view", "a", product_id=2)
    at(0, "product_view", "b", product_id=1)
    at(1, "add_to_cart", "a", product_id=1)
    at(2, "checkout_started", "a")
    at(3, "payment_attempted", "a")
    at(3, "payment_attempted", "a")
    at(11.9, "order_paid", "a", order_reference="FN-1")
    at(12, "visit", "after")

    # when the funnel of 10 March is counted
    counts = queries.funnel_counts(NOON - timedelta(hours=12), NOON + timedelta(hours=12))

    # then each stage counts its distinct visitors, every stage present, in funnel order
    assert counts == {
        FunnelStage.VISIT: 3,
        FunnelStage.PRODUCT_VIEW: 2,
        FunnelStage.ADD_TO_CART: 1,
        FunnelStage.CHECKOUT_STARTED: 1,
        FunnelStage.PAYMENT_ATTEMPTED: 1,
        FunnelStage.ORDER_PAID: 1,
    }
    assert list(counts) == list(FunnelStage)


def test_funnel_counts_needs_aware_times(app: Flask) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        queries.funnel_counts(datetime(2026, 3, 1), datetime(2026, 3, 2))


@pytest.mark.story("US-37")
def test_events_older_than_the_retention_period_are_deleted_by_the_job(
    app: Flask, frozen: list
) -> None:
    # given events 397, 395 and 1 day(s) old (the default retention is 396 days)
    for days in (397, 395, 1):
        frozen[0] = NOON - timedelta(days=days)
        services.record_event("visit", f"visitor-{days}")
    frozen[0] = NOON

    # when the job runs (in-process, as without a broker)
    deleted = tasks.delete_old_events.delay().get()

    # then only the one past the retention period is gone
    assert deleted == 1
    assert sorted(row[1] for row in events()) == ["visitor-1", "visitor-395"]


@pytest.mark.config(ANALYTICS_RETENTION_DAYS=30)
def test_the_retention_period_is_a_setting(app: Flask, frozen: list) -> None:
    # given events 31 and 29 days old, with a 30-day retention
    for days in (31, 29):
        frozen[0] = NOON - timedelta(days=days)
        services.record_event("visit", f"visitor-{days}")
    frozen[0] = NOON

    # when old events are deleted in batches of one
    deleted = services.delete_old_events(batch_size=1)

    # then the older one is gone
    assert deleted == 1
    assert [row[1] for row in events()] == ["visitor-29"]


def test_the_retention_job_is_scheduled_daily() -> None:
    [entry] = tasks.BEAT_SCHEDULE.values()
    assert entry == {"task": tasks.delete_old_events.name, "schedule": 86400.0}
