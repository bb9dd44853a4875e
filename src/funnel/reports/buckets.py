"""A report period cut into days, weeks or months: the rows of a report over time.

Pure: plain functions of their inputs. A week runs Monday to Sunday and a month is a calendar
month, both cut to the period at its ends (a period starting on a Wednesday has a first week of
five days), so that every bucket's figures add up to the period's. A bucket's instants are its
days' midnights in the shop's time zone (``periods.midnight``), so a bucket across a
daylight-saving change is an hour longer or shorter, as the shop's days are.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from funnel.reports.periods import Period, midnight


class Grouping(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Bucket:
    """Whole shop days from ``first_day`` to ``last_day``, both included."""

    first_day: date
    last_day: date

    @property
    def label(self) -> str:
        """``2026-12-04``, ``2026-12-01 to 2026-12-06`` or ``2026-12``."""
        if self.first_day == self.last_day:
            return self.first_day.isoformat()
        return f"{self.first_day.isoformat()} to {self.last_day.isoformat()}"


def _next_start(day: date, grouping: Grouping) -> date:
    """The first day of the bucket after the one ``day`` is in."""
    if grouping is Grouping.DAY:
        return day + timedelta(days=1)
    if grouping is Grouping.WEEK:
        return day + timedelta(days=7 - day.weekday())
    if day.month == 12:
        return date(day.year + 1, 1, 1)
    return date(day.year, day.month + 1, 1)


def buckets(period: Period, grouping: Grouping) -> list[Bucket]:
    """The period's days, weeks or months in order, the first and last cut to the period."""
    rows: list[Bucket] = []
    start = period.first_day
    while start <= period.last_day:
        following = _next_start(start, grouping)
        rows.append(Bucket(start, min(following - timedelta(days=1), period.last_day)))
        start = following
    return rows


def bucket_starts(rows: Sequence[Bucket], zone: ZoneInfo) -> list[datetime]:
    """The UTC instant at which each bucket starts, in order (the queries' ``starts``)."""
    return [midnight(row.first_day, zone) for row in rows]
