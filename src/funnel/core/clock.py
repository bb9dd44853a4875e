"""The one source of the current time, so that tests can move it.

Call it as ``clock.utcnow()`` (module attribute), never import the function by name, so that a
test's ``monkeypatch.setattr(clock, "utcnow", ...)`` reaches every caller.
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` starts in ``zone`` (a shop day's first instant)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
