"""Background job metrics: runs, failures and duration by job (Celery task) name.

Celery's task signals fire for every task, in a worker and when run eagerly in-process, so no
job needs code of its own to be measured. Connected once per process.
"""

from __future__ import annotations

import time
from typing import Any

from celery import signals

from funnel.core import metrics

_started: dict[str, float] = {}
# Runs whose end never came (a worker killed mid-task) must not pile up for ever.
_MOST_RUNNING = 10_000
_connected = False


def connect() -> None:
    """Count every task run from now on (calling it again changes nothing)."""
    global _connected
    if _connected:
        return
    _connected = True
    signals.task_prerun.connect(_task_started, weak=False)
    signals.task_postrun.connect(_task_finished, weak=False)


def _task_started(task_id: str | None = None, **_: Any) -> None:
    if task_id is None:
        return
    if len(_started) >= _MOST_RUNNING:
        _started.clear()
    _started[task_id] = time.perf_counter()


def _task_finished(
    task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any
) -> None:
    started = _started.pop(task_id, None) if task_id is not None else None
    name = getattr(task, "name", None) or "unknown"
    # Celery's states: SUCCESS, RETRY (failed, tried again later), FAILURE, REJECTED...
    outcome = {"SUCCESS": "succeeded", "RETRY": "retried"}.get(state or "", "failed")
    metrics.JOBS.labels(name, outcome).inc()
    if started is not None:
        metrics.JOB_SECONDS.labels(name).observe(time.perf_counter() - started)
