"""Reads of the funnel events, for the reports above."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.core.spans import span_index
from funnel.extensions import db

# Every stage, named: a condition that changes no count, but lets the database read a range of
# the ``(stage, occurred_at, visitor_id, product_id)`` index per stage (the index alone answers)
# where it would otherwise read the ``occurred_at`` index and look each event up in the table.
EVERY_STAGE = FunnelEvent.stage.in_(list(FunnelStage))


def funnel_counts(start: datetime, end: datetime) -> dict[FunnelStage, int]:
    """Distinct visitors who reached each stage in ``[start, end)``, every stage in funnel order
    (0 where none). ``start`` and ``end`` are timezone-aware. One query, served by the
    ``(stage, occurred_at, visitor_id, product_id)`` index alone (``EVERY_STAGE``)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("funnel_counts needs timezone-aware datetimes")
    rows = db.session.execute(
        select(FunnelEvent.stage, func.count(FunnelEvent.visitor_id.distinct()))
        .where(EVERY_STAGE, FunnelEvent.occurred_at >= start, FunnelEvent.occurred_at < end)
        .group_by(FunnelEvent.stage)
    ).tuples()
    counted = {FunnelStage(stage): int(count) for stage, count in rows}
    return {stage: counted.get(stage, 0) for stage in FunnelStage}


def funnel_counts_per_bucket(
    starts: Sequence[datetime], end: datetime
) -> list[dict[FunnelStage, int]]:
    """Distinct visitors who reached each stage in each bucket of time, in order: bucket ``i``
    is ``[starts[i], starts[i + 1])``, the last one ends at ``end`` (every stage in funnel
    order, 0 where none). A visitor counts once per bucket and again in every other bucket
    they came back in. The buckets may be of any length (a shop day across a daylight-saving
    change is 23 or 25 hours), so each event's bucket is found by comparing its instant with
    the starts in the query itself, the same on every database. One grouped query over the
    ``(stage, occurred_at, ...)`` index alone, whatever the number of buckets."""
    if not starts:
        return []
    if any(instant.tzinfo is None for instant in (*starts, end)):
        raise ValueError("funnel_counts_per_bucket needs timezone-aware datetimes")
    bucketed = (
        select(
            span_index(FunnelEvent.occurred_at, starts).label("bucket"),
            FunnelEvent.stage,
            FunnelEvent.visitor_id,
        )
        .where(EVERY_STAGE, FunnelEvent.occurred_at >= starts[0], FunnelEvent.occurred_at < end)
        .subquery()
    )
    rows = db.session.execute(
        select(
            bucketed.c.bucket, bucketed.c.stage, func.count(bucketed.c.visitor_id.distinct())
        ).group_by(bucketed.c.bucket, bucketed.c.stage)
    ).tuples()
    counts = [dict.fromkeys(FunnelStage, 0) for _ in starts]
    for bucket, stage, count in rows:
        counts[int(bucket)][FunnelStage(stage)] = int(count)
    return counts


def product_visitors(
    stage: FunnelStage, start: datetime, end: datetime, *conditions: Any
) -> dict[int, int]:
    """By product: the distinct visitors who reached ``stage`` with it in ``[start, end)``
    (and meet ``conditions`` on their events). One query, served by the ``(stage,
    occurred_at, visitor_id, product_id)`` index."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("product_visitors needs timezone-aware datetimes")
    rows = db.session.execute(
        select(FunnelEvent.product_id, func.count(FunnelEvent.visitor_id.distinct()))
        .where(
            FunnelEvent.stage == stage,
            FunnelEvent.occurred_at >= start,
            FunnelEvent.occurred_at < end,
            FunnelEvent.product_id.is_not(None),
            *conditions,
        )
        .group_by(FunnelEvent.product_id)
    ).tuples()
    return {int(product_id): int(count) for product_id, count in rows}


# What a funnel can be split by: each a column of the visit event.
SPLIT_COLUMNS = {
    "source": FunnelEvent.source,
    "medium": FunnelEvent.medium,
    "campaign": FunnelEvent.campaign,
    "landing_page": FunnelEvent.landing_path,
    "device": FunnelEvent.device,
}


def funnel_counts_by(
    split: str, start: datetime, end: datetime
) -> dict[str | None, dict[FunnelStage, int]]:
    """Distinct visitors per stage in ``[start, end)``, by the ``split`` value (a key of
    ``SPLIT_COLUMNS``) of each visitor's first visit in that range: a visitor counts in one
    group only, so the groups add up to the whole funnel. A visitor with no visit in the range
    (an API shopper, a visit before it) is in the None group, as is a visit recorded before
    its source was. One query."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("funnel_counts_by needs timezone-aware datetimes")
    column = SPLIT_COLUMNS[split]
    in_range = (FunnelEvent.occurred_at >= start, FunnelEvent.occurred_at < end)
    first_visits = (
        select(FunnelEvent.visitor_id, func.min(FunnelEvent.id).label("visit_id"))
        .where(FunnelEvent.stage == FunnelStage.VISIT, *in_range)
        .group_by(FunnelEvent.visitor_id)
        .subquery()
    )
    visit = aliased(FunnelEvent)
    event = aliased(FunnelEvent)
    group = getattr(visit, column.key)
    rows = db.session.execute(
        select(group, event.stage, func.count(event.visitor_id.distinct()))
        .select_from(event)
        .outerjoin(first_visits, first_visits.c.visitor_id == event.visitor_id)
        .outerjoin(visit, visit.id == first_visits.c.visit_id)
        .where(event.occurred_at >= start, event.occurred_at < end)
        .group_by(group, event.stage)
    ).tuples()
    counts: dict[str | None, dict[FunnelStage, int]] = {}
    for value, stage, count in rows:
        counts.setdefault(value, dict.fromkeys(FunnelStage, 0))[FunnelStage(stage)] = int(count)
    return counts
