"""Jobs that outlive a broker outage: a transactional outbox.

A job sent straight to the broker after a commit is lost if the broker is down at that moment:
the order stands, its email never goes. With a broker configured, ``send_after_commit`` instead
writes the job into ``pending_jobs`` in the same transaction as the work that asked for it, and
after the commit hands it to the broker and deletes the row. If the broker cannot take it, the
row stays: ``relay_pending_jobs`` (a periodic job, and the ``jobs run`` command) sends it again
once the broker is back. A job may then run twice (sent, but its row's deletion lost): jobs are
idempotent by their arguments, as ``acks_late`` already asks of them.

Without a broker (``make run``, the tests) jobs run in-process after the commit, as before: an
outbox would add a write to every order for no outage to survive.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from celery import Task
from flask import current_app
from sqlalchemy import Index, Integer, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core import clock
from funnel.core.database import db, in_transaction, on_commit, transaction
from funnel.core.models import now

log = logging.getLogger(__name__)

ERROR_LENGTH = 255
# A row younger than this is still being handed over by the request that wrote it.
RELAY_AFTER = timedelta(seconds=30)
RELAY_BATCH = 200


class PendingJob(db.Model):
    """A job committed with its work, not yet taken by the broker."""

    __tablename__ = "pending_jobs"
    __table_args__ = (Index(None, "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(200))
    # {"args": [...], "kwargs": {...}} as JSON: what the task is called with
    arguments: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(ERROR_LENGTH), default="")
    created_at: Mapped[datetime] = mapped_column(default=now)


def _has_broker() -> bool:
    return bool(current_app.config.get("CELERY_BROKER_URL"))


def _task(name: str) -> Task:
    """The task by name, in this Flask app's Celery app (its broker, or eager without one)."""
    return current_app.extensions["celery"].tasks[name]


def send_after_commit(task_name: str, *args: Any, **kwargs: Any) -> None:
    """Send the job ``task_name(*args, **kwargs)`` once the current transaction commits (one of
    its own outside a transaction); never when it rolls back.

    Side effects: with a broker, a ``pending_jobs`` row in the transaction, deleted once the
    broker has the job. Raises TypeError for arguments JSON cannot carry (the broker could not
    either).
    """
    if not _has_broker():

        def send() -> None:
            _task(task_name).apply_async(args, kwargs)

        if in_transaction():
            on_commit(send)
        else:
            send()
        return
    arguments = json.dumps({"args": list(args), "kwargs": kwargs})
    with transaction():
        job = PendingJob(task=task_name, arguments=arguments)
        db.session.add(job)
        db.session.flush()
        job_id = job.id
        on_commit(lambda: publish(job_id))


def publish(job_id: int) -> bool:
    """Hand the pending job ``job_id`` to the broker and delete its row; on failure, count the
    attempt and keep the row for ``relay_pending_jobs``. Whether the broker took it."""
    job = db.session.get(PendingJob, job_id)
    if job is None:
        return True  # another process sent it already
    task, arguments = job.task, json.loads(job.arguments)
    db.session.rollback()  # end the read: the broker call must not hold a transaction open
    try:
        _task(task).apply_async(arguments["args"], arguments["kwargs"])
    except Exception as error:  # the broker down, refusing, timing out: all mean "later"
        log.warning(
            "job %s (%s) kept for a later try, the broker refused it: %s", job_id, task, error
        )
        with transaction():
            db.session.execute(
                update(PendingJob)
                .where(PendingJob.id == job_id)
                .values(attempts=PendingJob.attempts + 1, last_error=str(error)[:ERROR_LENGTH])
            )
        return False
    with transaction():
        db.session.execute(delete(PendingJob).where(PendingJob.id == job_id))
    return True


def relay_pending_jobs() -> int:
    """Send again the jobs the broker could not take when they were committed (older than
    ``RELAY_AFTER``), oldest first; returns how many it took now."""
    cutoff = clock.utcnow() - RELAY_AFTER
    waiting = list(
        db.session.scalars(
            select(PendingJob.id)
            .where(PendingJob.created_at <= cutoff)
            .order_by(PendingJob.id)
            .limit(RELAY_BATCH)
        )
    )
    db.session.rollback()
    sent = 0
    for job_id in waiting:
        if not publish(job_id):
            break  # the broker is still down: the next run tries again
        sent += 1
    return sent
