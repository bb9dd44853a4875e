"""The funnel over whole shop days, read from the daily summary where it goes and from the
events after it: exact, and current to the last event.

The summary (``summaries``) covers every shop day up to ``summarised_through`` in one time
zone. A visitor counts once in a period ``[first, last]``: in the summarised days, on the one
day of theirs whose ``previous_day`` is before ``first`` (a count of index rows, no distinct);
in the days after, from the events, unless they were counted in the summarised days already.
A report in another time zone than the summary's, or before any summary run, reads the events
alone (``queries``), as before the summary existed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select, tuple_

from funnel.analytics import queries
from funnel.analytics.models import (
    FunnelEvent,
    FunnelProductVisitorDay,
    FunnelStage,
    FunnelSummaryState,
    FunnelVisitorDay,
)
from funnel.core.clock import midnight
from funnel.extensions import db

STATE_ID = 1
EVERY_SUMMARISED_STAGE = FunnelVisitorDay.stage.in_(list(FunnelStage))


def summarised_through(zone: ZoneInfo) -> date | None:
    """The last shop day in ``zone`` the summary holds; None when it holds none in that zone."""
    state = db.session.scalars(
        select(FunnelSummaryState).where(FunnelSummaryState.id == STATE_ID)
    ).one_or_none()
    if state is None or state.time_zone != zone.key:
        return None
    return state.summarised_through


def _summarised(
    model: type[FunnelVisitorDay] | type[FunnelProductVisitorDay],
    keys: tuple[str, ...],
    first_day: date,
    through: date,
) -> ColumnElement[bool]:
    """That the event's ``keys`` (stage, visitor, product) have a summarised day from
    ``first_day`` to ``through``: it was counted there already."""
    # The key's columns only, so the primary key answers (a SELECT * would read another index).
    return (
        select(model.day)
        .where(
            *(getattr(model, key) == getattr(FunnelEvent, key) for key in keys),
            model.day >= first_day,
            model.day <= through,
        )
        .exists()
    )


def funnel_counts_for_days(
    first_day: date, last_day: date, zone: ZoneInfo
) -> dict[FunnelStage, int]:
    """Distinct visitors who reached each stage from ``first_day`` to ``last_day`` (shop
    days in ``zone``, both included), every stage in funnel order: the same figures as
    ``queries.funnel_counts`` over the same instants. Two reads at most, each over an index."""
    through = summarised_through(zone)
    end = midnight(last_day + timedelta(days=1), zone)
    if through is None or through < first_day:
        return queries.funnel_counts(midnight(first_day, zone), end)
    through = min(through, last_day)
    summary = FunnelVisitorDay
    rows = db.session.execute(
        select(summary.stage, func.count())
        .where(
            EVERY_SUMMARISED_STAGE,
            summary.day >= first_day,
            summary.day <= through,
            or_(summary.previous_day.is_(None), summary.previous_day < first_day),
        )
        .group_by(summary.stage)
    ).tuples()
    counts = dict.fromkeys(FunnelStage, 0)
    for stage, count in rows:
        counts[FunnelStage(stage)] += int(count)
    if through == last_day:
        return counts
    counted_already = _summarised(summary, ("stage", "visitor_id"), first_day, through)
    rows = db.session.execute(
        select(FunnelEvent.stage, func.count(FunnelEvent.visitor_id.distinct()))
        .where(
            queries.EVERY_STAGE,
            FunnelEvent.occurred_at >= midnight(through + timedelta(days=1), zone),
            FunnelEvent.occurred_at < end,
            ~counted_already,
        )
        .group_by(FunnelEvent.stage)
    ).tuples()
    for stage, count in rows:
        counts[FunnelStage(stage)] += int(count)
    return counts


def funnel_counts_per_day(
    first_day: date, last_day: date, zone: ZoneInfo
) -> list[dict[FunnelStage, int]]:
    """Each shop day's distinct visitors per stage, from ``first_day`` to ``last_day`` in
    order (every stage in funnel order, 0 where none): the same figures as
    ``queries.funnel_counts_per_bucket`` over the days' instants. The summarised days are a
    count of index rows per day; the days after, one grouped read of their events."""
    days = [first_day + timedelta(days=offset) for offset in range((last_day - first_day).days + 1)]
    through = summarised_through(zone)
    if through is None or through < first_day:
        starts = [midnight(day, zone) for day in days]
        return queries.funnel_counts_per_bucket(
            starts, midnight(last_day + timedelta(days=1), zone)
        )
    through = min(through, last_day)
    counts = {day: dict.fromkeys(FunnelStage, 0) for day in days}
    summary = FunnelVisitorDay
    rows = db.session.execute(
        select(summary.day, summary.stage, func.count())
        .where(EVERY_SUMMARISED_STAGE, summary.day >= first_day, summary.day <= through)
        .group_by(summary.day, summary.stage)
    ).tuples()
    for day, stage, count in rows:
        counts[day][FunnelStage(stage)] = int(count)
    later = [day for day in days if day > through]
    if later:
        live = queries.funnel_counts_per_bucket(
            [midnight(day, zone) for day in later], midnight(last_day + timedelta(days=1), zone)
        )
        counts.update(zip(later, live, strict=True))
    return [counts[day] for day in days]


def product_visitors_for_days(
    stage: FunnelStage, first_day: date, last_day: date, zone: ZoneInfo
) -> dict[int, int]:
    """By product: the distinct visitors who reached ``stage`` (a product view or an add to
    cart) with it from ``first_day`` to ``last_day`` (shop days in ``zone``, both included).
    The summarised days are a count of index rows per product; the days after, one grouped
    read of their events, leaving out the visitors counted already."""
    through = summarised_through(zone)
    start, end = midnight(first_day, zone), midnight(last_day + timedelta(days=1), zone)
    if through is None or through < first_day:
        return queries.product_visitors(stage, start, end)
    through = min(through, last_day)
    summary = FunnelProductVisitorDay
    rows = db.session.execute(
        select(summary.product_id, func.count())
        .where(
            summary.stage == stage,
            summary.day >= first_day,
            summary.day <= through,
            or_(summary.previous_day.is_(None), summary.previous_day < first_day),
        )
        .group_by(summary.product_id)
    ).tuples()
    counts = {int(product_id): int(count) for product_id, count in rows}
    if through == last_day:
        return counts
    counted_already = _summarised(
        summary, ("stage", "product_id", "visitor_id"), first_day, through
    )
    later = queries.product_visitors(
        stage, midnight(through + timedelta(days=1), zone), end, ~counted_already
    )
    for product_id, count in later.items():
        counts[product_id] = counts.get(product_id, 0) + count
    return counts


def viewed_in_days(
    visitor_id: Any, product_id: Any, first_day: date, last_day: date, zone: ZoneInfo
) -> ColumnElement[bool]:
    """A condition on two columns of a caller's query: that visitor viewed that product from
    ``first_day`` to ``last_day`` (shop days in ``zone``). A lookup in the summary's key for
    the summarised days; the views of the days after, read once into a lookup."""
    through = summarised_through(zone)
    end = midnight(last_day + timedelta(days=1), zone)
    later_from = first_day if through is None or through < first_day else through + timedelta(1)
    viewed_later = tuple_(visitor_id, product_id).in_(
        select(FunnelEvent.visitor_id, FunnelEvent.product_id).where(
            FunnelEvent.stage == FunnelStage.PRODUCT_VIEW,
            FunnelEvent.occurred_at >= midnight(later_from, zone),
            FunnelEvent.occurred_at < end,
            FunnelEvent.product_id.is_not(None),
        )
    )
    if later_from == first_day:
        return viewed_later
    summary = FunnelProductVisitorDay
    viewed_summarised = (
        # the key's columns only: the primary key answers (a SELECT * would read another index)
        select(summary.day)
        .where(
            summary.stage == FunnelStage.PRODUCT_VIEW,
            summary.product_id == product_id,
            summary.visitor_id == visitor_id,
            summary.day >= first_day,
            summary.day <= min(through, last_day),
        )
        .exists()
    )
    return or_(viewed_summarised, viewed_later)
