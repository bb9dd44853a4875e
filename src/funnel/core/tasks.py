"""Jobs of the shared plumbing. ``BEAT_SCHEDULE`` lists the periodic ones for Celery beat."""

from __future__ import annotations

import logging

from celery import shared_task

from funnel.core import idempotency

log = logging.getLogger(__name__)

DELETE_EXPIRED_IDEMPOTENCY_KEYS = "funnel.core.tasks.delete_expired_idempotency_keys"

BEAT_SCHEDULE = {
    "core-delete-expired-idempotency-keys": {
        "task": DELETE_EXPIRED_IDEMPOTENCY_KEYS,
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
