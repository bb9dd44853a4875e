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


def product_viewers(start: datetime, end: datetime) -> dict[int, int]:
    """By product: the distinct visitors who viewed it in ``[start, end)``. One query, served
    by the ``(stage, occurred_at)`` index."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("product_viewers needs timezone-aware datetimes")
    rows = db.session.execute(
        select(FunnelEvent.product_id, func.count(FunnelEvent.visitor_id.distinct()))
        .where(
            FunnelEvent.stage == FunnelStage.PRODUCT_VIEW,
            FunnelEvent.occurred_at >= start,
            FunnelEvent.occurred_at < end,
            FunnelEvent.product_id.is_not(None),
        )
        .group_by(FunnelEvent.product_id)
    ).tuples()
    return {int(product_id): int(count) for product_id, count in rows}
