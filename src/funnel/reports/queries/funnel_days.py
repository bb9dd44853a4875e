"""The sales funnel day by day: each shop day's distinct visitors at each stage.

A visitor counts once on each day they reached a stage, so a visitor who came back on three
days counts on each of the three: the days do not add up to the period's funnel
(``funnel_report``, where they count once), and the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from funnel.analytics import daily
from funnel.analytics.models import FunnelStage
from funnel.reports.buckets import Grouping, buckets
from funnel.reports.periods import Period, checked_period


@dataclass(frozen=True)
class FunnelDay:
    """One shop day's distinct visitors per stage, in funnel order."""

    day: date
    visitors: tuple[int, ...]

    def of(self, stage: FunnelStage) -> int:
        return self.visitors[list(FunnelStage).index(stage)]


@dataclass(frozen=True)
class FunnelDaysReport:
    period: Period
    time_zone: str
    # The instants the period spans, ``[start, end)``, UTC.
    start: datetime
    end: datetime
    # Every day of the period in order, days without visitors included.
    days: tuple[FunnelDay, ...]


def funnel_days_report(
    first_day: date, last_day: date, time_zone: ZoneInfo | str
) -> FunnelDaysReport:
    """Each shop day from ``first_day`` to ``last_day`` (in ``time_zone``, both included)
    with the distinct visitors who reached each stage that day. Raises InvalidReportPeriod
    for days that are no period. Two reads at most (``analytics.daily.funnel_counts_per_day``:
    the summarised days, then the days after from the events); writes nothing."""
    period = checked_period(first_day, last_day)
    zone = time_zone if isinstance(time_zone, ZoneInfo) else ZoneInfo(time_zone)
    start, end = period.instants(zone)
    rows = buckets(period, Grouping.DAY)
    counts = daily.funnel_counts_per_day(period.first_day, period.last_day, zone)
    return FunnelDaysReport(
        period=period,
        time_zone=zone.key,
        start=start,
        end=end,
        days=tuple(
            FunnelDay(row.first_day, tuple(day_counts[stage] for stage in FunnelStage))
            for row, day_counts in zip(rows, counts, strict=True)
        ),
    )
