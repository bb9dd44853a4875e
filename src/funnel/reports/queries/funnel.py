"""The sales funnel over whole shop days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from funnel.analytics import daily
from funnel.analytics import queries as analytics_queries
from funnel.reports.conversion import StageFigures, funnel_figures
from funnel.reports.periods import Period, checked_period
from funnel.reports.splits import Split, SplitGroup, split_groups


@dataclass(frozen=True)
class FunnelReport:
    """The funnel over ``period`` and the period of the same length before it."""

    period: Period
    previous_period: Period
    time_zone: str
    # The instants the period spans, ``[start, end)``, UTC.
    start: datetime
    end: datetime
    stages: tuple[StageFigures, ...]
    # The funnel split by ``split`` into groups of visitors (none when not asked for).
    split: Split | None = None
    groups: tuple[SplitGroup, ...] = ()

    @property
    def largest(self) -> int:
        """The most visitors of any stage in either period (the bars' full width)."""
        return max((max(row.visitors, row.previous_visitors) for row in self.stages), default=0)


def funnel_report(
    first_day: date, last_day: date, time_zone: ZoneInfo | str, split: Split | None = None
) -> FunnelReport:
    """The sales funnel from ``first_day`` to ``last_day`` (shop days in ``time_zone``, both
    included), against the period of the same length just before.

    Each stage counts the distinct visitors who reached it in the period (a visitor counts
    once however many days they came back: ``analytics.daily.funnel_counts_for_days``, from
    the daily summary and the events after it). Raises
    InvalidReportPeriod (messages by field ``from``, ``to``) for days that are no period:
    the end before the start, more than ``periods.MAX_DAYS`` days, outside the years served.
    Given ``split``, also the same period's funnel by groups of visitors
    (``analytics.queries.funnel_counts_by``: each visitor in the group of their first visit
    in the period). Two reads, three with a split; writes nothing.
    """
    period = checked_period(first_day, last_day)
    zone = time_zone if isinstance(time_zone, ZoneInfo) else ZoneInfo(time_zone)
    previous = period.previous()
    start, end = period.instants(zone)
    counts = daily.funnel_counts_for_days(period.first_day, period.last_day, zone)
    previous_counts = daily.funnel_counts_for_days(previous.first_day, previous.last_day, zone)
    return FunnelReport(
        period=period,
        previous_period=previous,
        time_zone=zone.key,
        start=start,
        end=end,
        stages=funnel_figures(counts, previous_counts),
        split=split,
        groups=split_groups(analytics_queries.funnel_counts_by(split, start, end))
        if split is not None
        else (),
    )
