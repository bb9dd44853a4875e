"""Cart jobs. ``BEAT_SCHEDULE`` lists the periodic ones for Celery beat."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from funnel.cart import services

log = logging.getLogger(__name__)

DELETE_STALE_CARTS = "funnel.cart.tasks.delete_stale_carts"

BEAT_SCHEDULE = {
    "cart-delete-stale-carts": {
        "task": DELETE_STALE_CARTS,
        "schedule": 24 * 60 * 60.0,  # seconds: daily
    },
}


def retention_days() -> int:
    """How long an untouched cart is kept: ``CART_RETENTION_DAYS`` (30 by default)."""
    return int(current_app.config.get("CART_RETENTION_DAYS", services.DEFAULT_RETENTION_DAYS))


@shared_task(name=DELETE_STALE_CARTS)
def delete_stale_carts() -> int:
    """Delete carts untouched for ``CART_RETENTION_DAYS`` days; returns how many."""
    deleted = services.delete_stale_carts(retention_days())
    if deleted:
        log.info("deleted %d carts untouched for %d days", deleted, retention_days())
    return deleted
