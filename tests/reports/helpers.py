"""Funnel events written straight into the table, with the visitor and instant a test chooses."""

from __future__ import annotations

from datetime import datetime

from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.extensions import db


def event(stage: FunnelStage | str, visitor: str, at: datetime) -> None:
    """One event of ``visitor`` reaching ``stage`` at ``at`` (timezone-aware)."""
    db.session.add(FunnelEvent(stage=FunnelStage(stage), visitor_id=visitor, occurred_at=at))
    db.session.commit()


def journey(visitor: str, at: datetime, *stages: FunnelStage | str) -> None:
    """``visitor`` reaching each of ``stages`` at the same instant."""
    for stage in stages:
        db.session.add(FunnelEvent(stage=FunnelStage(stage), visitor_id=visitor, occurred_at=at))
    db.session.commit()


def visitors(report: object) -> list[int]:
    """The report's visitors per stage, in funnel order."""
    return [row.visitors for row in report.stages]  # type: ignore[attr-defined]
