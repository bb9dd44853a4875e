"""Background jobs with Celery, bound to the Flask app.

Without a broker (``FUNNEL_CELERY_BROKER_URL`` unset) tasks run eagerly, in-process, right
where they are enqueued: ``make run`` and the tests need no worker. Services enqueue with
``on_commit(lambda: some_task.delay(...))`` so that a job never sees uncommitted work.
Tasks are declared with ``celery.shared_task`` in each domain's ``tasks.py``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from celery import Celery, Task
from flask import Flask, has_app_context

log = logging.getLogger(__name__)


def init_celery(app: Flask) -> Celery:
    """Create the Celery app for ``app``: every task runs inside an application context."""

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            if has_app_context():
                return self.run(*args, **kwargs)
            with app.app_context():
                return self.run(*args, **kwargs)

    broker = app.config.get("CELERY_BROKER_URL")
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=broker or "memory://",
        result_backend=None,
        task_ignore_result=True,
        task_always_eager=not broker,
        task_default_queue=app.config.get("CELERY_QUEUE", "funnel"),
        task_eager_propagates=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        timezone="UTC",
        enable_utc=True,
        beat_schedule=dict(app.config.get("CELERY_BEAT_SCHEDULE", {})),
        broker_connection_retry_on_startup=True,
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    if app.config.get("JOBS_IN_PROCESS") and not broker and not app.testing:
        scheduler = InProcessScheduler(app, celery_app)
        scheduler.start()
        app.extensions["funnel.scheduler"] = scheduler
    return celery_app


def schedule_intervals(schedule: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, float]]:
    """The (task name, seconds) pairs of a beat schedule whose entries are plain intervals."""
    intervals = []
    for name, entry in schedule.items():
        every = entry["schedule"]
        if isinstance(every, timedelta):
            every = every.total_seconds()
        if not isinstance(every, int | float) or every <= 0:
            log.warning("job %s: only interval schedules run in-process; skipped", name)
            continue
        intervals.append((entry["task"], float(every)))
    return intervals


class InProcessScheduler:
    """Celery beat's job, for one development process with no broker (``make run``).

    Runs each periodic task at its interval in a daemon thread, inside an application
    context, so that a shop served by ``flask run`` still settles test-gateway payments,
    expires reservations and checkouts, and cancels overdue bank transfers. A failing job is
    logged and tried again at its next turn. Production runs ``celery beat`` instead.
    """

    def __init__(self, app: Flask, celery_app: Celery) -> None:
        self.app = app
        self.celery_app = celery_app
        self.intervals = schedule_intervals(celery_app.conf.beat_schedule)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="funnel-jobs", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)

    def run_due(self, due: dict[str, float], now: float) -> None:
        for task_name, every in self.intervals:
            if due.get(task_name, 0.0) > now:
                continue
            due[task_name] = now + every
            try:
                with self.app.app_context():
                    self.celery_app.tasks[task_name].apply(throw=True)
            except Exception:
                log.exception("in-process job %s failed", task_name)

    def _loop(self) -> None:
        start = time.monotonic()
        due = {task_name: start + every for task_name, every in self.intervals}
        while not self.stopped.is_set():
            now = time.monotonic()
            self.run_due(due, now)
            wait = min(due.values(), default=now + 60) - time.monotonic()
            self.stopped.wait(max(0.5, min(wait, 60.0)))
