"""The shop's traffic of the last hour, from the minutes each web process wrote
(``funnel.core.request_minutes``): requests, the share answered with a server error, and the
95th percentile of the time taken, to the bucket (it is "at most 250 ms", as Prometheus'
``histogram_quantile`` would estimate from the same buckets, never a made-up exact figure).

The two alerts of ``deploy/prometheus/alerts.yml`` watch the same figures over 5 minutes;
the page flags the hour when it is past their thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

import sqlalchemy as sa

from funnel.core.request_minutes import BUCKET_BOUNDS_MS, BUCKET_COLUMNS, RequestMinute, minute_of
from funnel.extensions import db
from funnel.reports.conversion import rate

TRAFFIC_WINDOW = timedelta(hours=1)
# FunnelHighErrorRate and FunnelSlowResponses (deploy/prometheus/alerts.yml).
ALERT_ERROR_RATE = Fraction(5, 100)
ALERT_P95_MS = 1000


@dataclass(frozen=True)
class Traffic:
    """Requests answered in finished minutes from ``since`` to ``until`` (exclusive)."""

    since: datetime
    until: datetime
    requests: int
    client_errors: int
    server_errors: int
    total_ms: int
    buckets: tuple[int, ...]

    @property
    def error_rate(self) -> Fraction | None:
        return rate(self.server_errors, self.requests)

    @property
    def mean_ms(self) -> int | None:
        return round(self.total_ms / self.requests) if self.requests else None

    @property
    def p95_bound_ms(self) -> int | None:
        """The upper bound of the bucket holding the 95th percentile; None when there was no
        request, or when it lies past the last bound (shown as "over 2500 ms")."""
        if not self.requests:
            return None
        needed = Fraction(95, 100) * self.requests
        seen = 0
        for bound, count in zip(BUCKET_BOUNDS_MS, self.buckets, strict=False):
            seen += count
            if seen >= needed:
                return bound
        return None

    @property
    def is_error_rate_above_alert(self) -> bool:
        error_rate = self.error_rate
        return error_rate is not None and error_rate > ALERT_ERROR_RATE

    @property
    def is_slow(self) -> bool:
        bound = self.p95_bound_ms
        return bool(self.requests) and (bound is None or bound > ALERT_P95_MS)


def last_hour_traffic(now: datetime) -> Traffic:
    """The finished minutes of the hour before ``now`` (aware UTC), every process summed."""
    until = minute_of(now)
    since = until - TRAFFIC_WINDOW
    sums = [
        sa.func.coalesce(sa.func.sum(getattr(RequestMinute, name)), 0)
        for name in ("requests", "client_errors", "server_errors", "total_ms", *BUCKET_COLUMNS)
    ]
    row = db.session.execute(
        sa.select(*sums).where(RequestMinute.minute >= since, RequestMinute.minute < until)
    ).one()
    figures = [int(value) for value in row]
    return Traffic(
        since=since,
        until=until,
        requests=figures[0],
        client_errors=figures[1],
        server_errors=figures[2],
        total_ms=figures[3],
        buckets=tuple(figures[4:]),
    )
