"""Inventory jobs. ``BEAT_SCHEDULE`` lists the periodic ones for Celery beat."""

from __future__ import annotations

import logging

from celery import shared_task

from funnel.inventory import services

log = logging.getLogger(__name__)

DELETE_EXPIRED_RESERVATIONS = "funnel.inventory.tasks.delete_expired_reservations"

BEAT_SCHEDULE = {
    "inventory-delete-expired-reservations": {
        "task": DELETE_EXPIRED_RESERVATIONS,
        "schedule": 60.0,  # seconds: expired reservations already stop counting; this tidies
    },
}


@shared_task(name=DELETE_EXPIRED_RESERVATIONS)
def delete_expired_reservations() -> int:
    """Delete expired stock reservations; returns how many."""
    deleted = services.delete_expired_reservations()
    if deleted:
        log.info("deleted %d expired stock reservations", deleted)
    return deleted
