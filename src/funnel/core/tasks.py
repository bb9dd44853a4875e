"""Jobs of the shared plumbing. ``BEAT_SCHEDULE`` lists the periodic ones for Celery beat."""

from __future__ import annotations

import logging

from celery import shared_task

from funnel.core import idempotency, outbox, request_minutes

log = logging.getLogger(__name__)

DELETE_EXPIRED_IDEMPOTENCY_KEYS = "funnel.core.tasks.delete_expired_idempotency_keys"
RELAY_PENDING_JOBS = "funnel.core.tasks.relay_pending_jobs"
DELETE_OLD_REQUEST_MINUTES = "funnel.core.tasks.delete_old_request_minutes"

BEAT_SCHEDULE = {
    "core-delete-expired-idempotency-keys": {
        "task": DELETE_EXPIRED_IDEMPOTENCY_KEYS,
        "schedule": 60 * 60.0,  # seconds: hourly
    },
    "core-relay-pending-jobs": {
        "task": RELAY_PENDING_JOBS,
        "schedule": 60.0,  # seconds: jobs the broker refused go out within a minute of its return
    },
    "core-delete-old-request-minutes": {
        "task": DELETE_OLD_REQUEST_MINUTES,
        "schedule": 60 * 60.0,  # seconds: hourly
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


@shared_task(name=DELETE_OLD_REQUEST_MINUTES)
def delete_old_request_minutes() -> int:
    """Delete the Operations page's request counts older than eight days; returns how many."""
    return request_minutes.delete_old_minutes()
