"""Report periods: whole shop days, both ends included, and the instants they span.

Pure: plain functions of their inputs. A shop day runs from midnight to midnight in the shop's
time zone, so a day is 23 or 25 hours long across a daylight-saving change; the instants come
from ``zoneinfo`` (a midnight that a change skips starts the day at the change).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from funnel.core.clock import midnight
from funnel.reports.errors import InvalidReportPeriod

MAX_DAYS = 366
DEFAULT_DAYS = 30
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(9998, 12, 31)


@dataclass(frozen=True)
class Period:
    """Whole shop days from ``first_day`` to ``last_day``, both included."""

    first_day: date
    last_day: date

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        last = self.first_day - timedelta(days=1)
        return Period(last - timedelta(days=self.days - 1), last)

    def instants(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """``[start, end)`` in UTC: the first day's midnight to the midnight after the last."""
        return midnight(self.first_day, zone), midnight(self.last_day + timedelta(days=1), zone)


def shop_today(now: datetime, zone: ZoneInfo) -> date:
    """The shop's day at the instant ``now`` (timezone-aware)."""
    return now.astimezone(zone).date()


def default_period(today: date, days: int = DEFAULT_DAYS) -> Period:
    """The last ``days`` shop days, today included."""
    return Period(today - timedelta(days=days - 1), today)


def period_errors(first_day: date, last_day: date) -> dict[str, list[str]]:
    """What is wrong with the days as a report period, by field (``from``, ``to``); empty
    when they are one: the end on or after the start, at most ``MAX_DAYS`` days, within
    ``EARLIEST_DAY`` and ``LATEST_DAY``."""
    errors: dict[str, list[str]] = {}
    for field, day in (("from", first_day), ("to", last_day)):
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            errors[field] = [f"A day from {EARLIEST_DAY.isoformat()} on."]
    if errors:
        return errors
    if last_day < first_day:
        errors["to"] = ["The last day comes on or after the first day."]
    elif (last_day - first_day).days + 1 > MAX_DAYS:
        errors["to"] = [f"At most {MAX_DAYS} days from the first day."]
    return errors


def checked_period(first_day: date, last_day: date) -> Period:
    """The days as a period; raises InvalidReportPeriod (messages by field ``from``, ``to``)
    when ``period_errors`` finds them wrong."""
    errors = period_errors(first_day, last_day)
    if errors:
        raise InvalidReportPeriod("The report's days are not right.", errors)
    return Period(first_day, last_day)
