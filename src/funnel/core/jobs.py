"""Background jobs with Celery, bound to the Flask app.

Without a broker (``FUNNEL_CELERY_BROKER_URL`` unset) tasks run eagerly, in-process, right
where they are enqueued: ``make run`` and the tests need no worker. Services enqueue with
``on_commit(lambda: some_task.delay(...))`` so that a job never sees uncommitted work.
Tasks are declared with ``celery.shared_task`` in each domain's ``tasks.py``.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask, has_app_context


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
    return celery_app
