"""Reads of the funnel events, for the reports above."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.extensions import db


def funnel_counts(start: datetime, end: datetime) -> dict[FunnelStage, int]:
    """Distinct visitors who reached each stage in ``[start, end)``, every stage in funnel order
    (0 where none). ``start`` and ``end`` are timezone-aware. One query, served by the
    ``(stage, occurred_at)`` index."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("funnel_counts needs timezone-aware datetimes")
    rows = db.session.execute(
        select(FunnelEvent.stage, func.count(FunnelEvent.visitor_id.distinct()))
        .where(FunnelEvent.occurred_at >= start, FunnelEvent.occurred_at < end)
        .group_by(FunnelEvent.stage)
    ).tuples()
    counted = {FunnelStage(stage): int(count) for stage, count in rows}
    return {stage: counted.get(stage, 0) for stage in FunnelStage}
