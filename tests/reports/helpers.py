"""Funnel events written straight into the table, with the visitor and instant a test chooses;
and reading a report page's table rows."""

from __future__ import annotations

import re
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


def text_of(html: str) -> str:
    """The text of an HTML fragment, tags dropped and spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def row_of(page: str, label: str) -> list[str]:
    """The cells of the table row whose header is ``label``."""
    match = re.search(rf'<th scope="row">{label}</th>(.*?)</tr>', page, re.S)
    assert match, f"no row {label}"
    return [text_of(cell) for cell in re.findall(r"<td>(.*?)</td>", match.group(1), re.S)]
