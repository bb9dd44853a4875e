"""Jobs of the shared plumbing. ``BEAT_SCHEDULE`` lists the periodic ones for Celery beat."""

from __future__ import annotations

import logging

from celery import shared_task

from funnel.core import idempotency, outbox

log = logging.getLogger(__name__)

DELETE_EXPIRED_IDEMPOTENCY_KEYS = "funnel.core.tasks.delete_expired_idempotency_keys"
RELAY_PENDING_JOBS = "funnel.core.tasks.relay_pending_jobs"

BEAT_SCHEDULE = {
    "core-delete-expired-idempotency-keys": {
        "task": DELETE_EXPIRED_IDEMPOTENCY_KEYS,
        "schedule": 60 * 60.0,  # seconds: hourly
    },
    "core-relay-pending-jobs": {
        "task": RELAY_PENDING_JOBS,
        "schedule": 60.0,  # seconds: jobs the broker refused go out within a minute of its return
    },
}


@shared_task(name=DELETE_EXPIRED_IDEMPOTENCY_KEYS)
def delete_expired_idempotency_keys() -> int:
    """Delete idempotency keys older than ``IDEMPOTENCY_KEY_HOURS``; returns how many."""
    deleted = idempotency.delete_expired_keys()
    if deleted:
        log.info("deleted %d expired idempotency keys", deleted)
    return deleted


@shared_task(name=RELAY_PENDING_JOBS)
def relay_pending_jobs() -> int:
    """Send the jobs the broker could not take when they were committed; returns how many."""
    sent = outbox.relay_pending_jobs()
    if sent:
        log.info("sent %d jobs the broker had refused", sent)
    return sent
