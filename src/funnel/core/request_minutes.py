"""The shop's own record of its traffic, minute by minute, for the staff Operations page.

Prometheus keeps the real time series; this is what an owner sees without it. Each web process
adds every answered request to its current minute's totals in memory (requests, client and
server errors, total time, and a latency bucket), and writes a finished minute as one row at
its first request of a later minute, and when gunicorn stops the worker (``worker_exit`` in
``deploy/gunicorn.conf.py``). One row per process and minute: inserts only, so workers never
wait on each other, and the cost per request is a few additions under a lock.

What it misses, by design: the minute in progress (the page reads finished minutes), and the
last minute of a process killed outright (``kill -9``, an out-of-memory kill). Health checks
and ``/metrics`` are not counted: their scrapers would drown the shop's own traffic. A failed
write (the database away) is logged and its counts dropped; it never fails the request.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask, Response, current_app, g, request
from sqlalchemy import BigInteger, Index, Integer, String, delete, insert
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core import clock
from funnel.core.database import db

log = logging.getLogger(__name__)

# Upper bounds of the latency buckets, in milliseconds; a last bucket holds the slower ones.
BUCKET_BOUNDS_MS = (25, 50, 100, 250, 500, 1000, 2500)
BUCKET_COLUMNS = (*(f"at_most_{bound}_ms" for bound in BUCKET_BOUNDS_MS), "slower_ms")
NOT_COUNTED = frozenset({"/healthz", "/readyz", "/metrics"})
KEPT = timedelta(days=8)
PROCESS_LENGTH = 100
_EXTENSION = "funnel.request_minutes"
_STARTED = "funnel_request_minutes_started"


class RequestMinute(db.Model):
    """One process's requests of one minute (UTC, to the minute)."""

    __tablename__ = "request_minutes"
    __table_args__ = (Index(None, "minute"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    minute: Mapped[datetime]
    process: Mapped[str] = mapped_column(String(PROCESS_LENGTH))
    requests: Mapped[int] = mapped_column(Integer)
    client_errors: Mapped[int] = mapped_column(Integer)
    server_errors: Mapped[int] = mapped_column(Integer)
    total_ms: Mapped[int] = mapped_column(BigInteger)
    at_most_25_ms: Mapped[int] = mapped_column(Integer)
    at_most_50_ms: Mapped[int] = mapped_column(Integer)
    at_most_100_ms: Mapped[int] = mapped_column(Integer)
    at_most_250_ms: Mapped[int] = mapped_column(Integer)
    at_most_500_ms: Mapped[int] = mapped_column(Integer)
    at_most_1000_ms: Mapped[int] = mapped_column(Integer)
    at_most_2500_ms: Mapped[int] = mapped_column(Integer)
    slower_ms: Mapped[int] = mapped_column(Integer)


@dataclass
class MinuteTotals:
    requests: int = 0
    client_errors: int = 0
    server_errors: int = 0
    total_ms: int = 0
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKET_COLUMNS))

    def add(self, status: int, milliseconds: int) -> None:
        self.requests += 1
        if 400 <= status < 500:
            self.client_errors += 1
        elif status >= 500:
            self.server_errors += 1
        self.total_ms += milliseconds
        self.buckets[bisect_left(BUCKET_BOUNDS_MS, milliseconds)] += 1


@dataclass
class Recorder:
    """This process's unwritten minutes, guarded by a lock (the development server threads)."""

    process: str
    minutes: dict[datetime, MinuteTotals] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, minute: datetime, status: int, milliseconds: int) -> list[datetime]:
        """Count one request; returns the earlier minutes now finished (to be written)."""
        with self.lock:
            self.minutes.setdefault(minute, MinuteTotals()).add(status, milliseconds)
            return [earlier for earlier in self.minutes if earlier < minute]

    def take(self, before: datetime | None = None) -> dict[datetime, MinuteTotals]:
        with self.lock:
            taken = {
                minute: totals
                for minute, totals in self.minutes.items()
                if before is None or minute < before
            }
            for minute in taken:
                del self.minutes[minute]
            return taken


def init_app(app: Flask) -> None:
    """Count every answered request of ``app`` (see the module)."""
    process = f"{socket.gethostname()}:{os.getpid()}"[:PROCESS_LENGTH]
    app.extensions[_EXTENSION] = Recorder(process)
    app.before_request(_start)
    app.after_request(_count)


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _start() -> None:
    g.setdefault(_STARTED, time.perf_counter())


def _count(response: Response) -> Response:
    started = g.pop(_STARTED, None)
    if started is None or request.path in NOT_COUNTED:
        return response
    milliseconds = round((time.perf_counter() - started) * 1000)
    recorder: Recorder = current_app.extensions[_EXTENSION]
    minute = minute_of(clock.utcnow())
    if recorder.add(minute, response.status_code, milliseconds):
        write_minutes(recorder.take(before=minute), recorder.process)
    return response


def flush(app: Flask) -> int:
    """Write every minute ``app``'s process holds, the current one too (the process is
    stopping, or a test reads at once); returns how many rows were written."""
    recorder: Recorder | None = getattr(app, "extensions", {}).get(_EXTENSION)
    if recorder is None:
        return 0
    with app.app_context():
        return write_minutes(recorder.take(), recorder.process)


def write_minutes(minutes: dict[datetime, MinuteTotals], process: str) -> int:
    """Insert one row per minute, on a connection of its own (outside the request's session)."""
    if not minutes:
        return 0
    rows = [
        {
            "minute": minute,
            "process": process,
            "requests": totals.requests,
            "client_errors": totals.client_errors,
            "server_errors": totals.server_errors,
            "total_ms": totals.total_ms,
            **dict(zip(BUCKET_COLUMNS, totals.buckets, strict=True)),
        }
        for minute, totals in sorted(minutes.items())
    ]
    try:
        with db.engine.begin() as connection:
            connection.execute(insert(RequestMinute), rows)
    except Exception:  # the counts are a courtesy: a database away must not fail the request
        log.warning("could not write %d minutes of request counts", len(rows), exc_info=True)
        return 0
    return len(rows)


def delete_old_minutes() -> int:
    """Delete the rows older than ``KEPT`` (the page reads the last hour); returns how many."""
    with db.engine.begin() as connection:
        result = connection.execute(
            delete(RequestMinute).where(RequestMinute.minute < clock.utcnow() - KEPT)
        )
    return result.rowcount or 0
