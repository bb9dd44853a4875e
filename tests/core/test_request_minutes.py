"""Each web process counts its requests per minute and writes a finished minute as one row
(the staff Operations page's traffic, US-72)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from funnel.core import clock, request_minutes
from funnel.core.request_minutes import RequestMinute
from funnel.extensions import db

pytestmark = pytest.mark.story("US-72")

NOON = datetime(2026, 3, 10, 12, 0, 10, tzinfo=UTC)


class Clock:
    """The time the app reads, moved by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, now: datetime) -> None:
        self.now = now
        monkeypatch.setattr(clock, "utcnow", lambda: self.now)


def written() -> list[dict[str, Any]]:
    db.session.expire_all()
    rows = db.session.execute(sa.select(RequestMinute).order_by(RequestMinute.minute)).scalars()
    return [
        {
            "minute": row.minute,
            "requests": row.requests,
            "client_errors": row.client_errors,
            "server_errors": row.server_errors,
            "buckets": [getattr(row, name) for name in request_minutes.BUCKET_COLUMNS],
        }
        for row in rows
    ]


def test_a_minute_is_written_as_one_row_at_the_first_request_of_a_later_minute(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given three requests at 12:00, one of them for a page that does not exist
    time = Clock(monkeypatch, NOON)
    for path in ("/", "/search?q=tea", "/no-such-page"):
        client.get(path)
    assert written() == []  # the minute is still in progress

    # when a request comes at 12:01
    time.now = NOON + timedelta(minutes=1)
    client.get("/")

    # then 12:00 is written, and 12:01 is not yet
    [row] = written()
    assert row["minute"] == datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert (row["requests"], row["client_errors"], row["server_errors"]) == (3, 1, 0)
    assert sum(row["buckets"]) == 3


def test_health_checks_and_metrics_scrapes_are_not_counted(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    Clock(monkeypatch, NOON)
    for path in ("/healthz", "/readyz", "/metrics", "/healthz"):
        client.get(path)

    assert request_minutes.flush(app) == 0
    assert written() == []


@pytest.mark.own_app
def test_a_server_error_is_counted_as_one(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    @app.get("/__broken")
    def broken() -> str:
        raise RuntimeError("the flux capacitor melted")

    Clock(monkeypatch, NOON)
    assert client.get("/__broken").status_code == 500
    assert client.get("/").status_code == 200

    assert request_minutes.flush(app) == 1
    [row] = written()
    assert (row["requests"], row["client_errors"], row["server_errors"]) == (2, 0, 1)


def test_a_stopping_worker_writes_the_minute_in_progress_once(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    Clock(monkeypatch, NOON)
    client.get("/")
    client.get("/")

    assert request_minutes.flush(app) == 1
    assert request_minutes.flush(app) == 0
    assert [row["requests"] for row in written()] == [2]


def test_latency_falls_in_the_bucket_of_its_upper_bound() -> None:
    totals = request_minutes.MinuteTotals()
    for milliseconds in (0, 25, 26, 1000, 2500, 2501, 60_000):
        totals.add(200, milliseconds)

    assert dict(zip(request_minutes.BUCKET_COLUMNS, totals.buckets, strict=True)) == {
        "at_most_25_ms": 2,
        "at_most_50_ms": 1,
        "at_most_100_ms": 0,
        "at_most_250_ms": 0,
        "at_most_500_ms": 0,
        "at_most_1000_ms": 1,
        "at_most_2500_ms": 1,
        "slower_ms": 2,
    }
    assert totals.total_ms == 66_052


def test_the_hourly_job_deletes_only_rows_older_than_eight_days(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given minutes written 9 days, 8 days less a minute, and an hour ago
    Clock(monkeypatch, NOON)
    for age in (timedelta(days=9), timedelta(days=8) - timedelta(minutes=1), timedelta(hours=1)):
        minute = request_minutes.minute_of(NOON - age)
        request_minutes.write_minutes({minute: request_minutes.MinuteTotals(requests=1)}, "web:1")

    # when the job runs
    result = app.test_cli_runner().invoke(args=["jobs", "run", "core-delete-old-request-minutes"])

    # then only the 9-day-old row is gone
    assert result.exit_code == 0, result.output
    assert [row["minute"] for row in written()] == [
        request_minutes.minute_of(NOON - timedelta(days=8) + timedelta(minutes=1)),
        request_minutes.minute_of(NOON - timedelta(hours=1)),
    ]
