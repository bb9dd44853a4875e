"""The one source of the current time, so that tests can move it.

Call it as ``clock.utcnow()`` (module attribute), never import the function by name, so that a
test's ``monkeypatch.setattr(clock, "utcnow", ...)`` reaches every caller.
"""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)
