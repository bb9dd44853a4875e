"""Checkout jobs. ``BEAT_SCHEDULE`` lists the periodic ones for Celery beat."""

from __future__ import annotations

from celery import shared_task

from funnel.checkout import services

EXPIRE_CHECKOUTS = "funnel.checkout.tasks.expire_checkouts"

BEAT_SCHEDULE = {
    "checkout-expire-checkouts": {
        "task": EXPIRE_CHECKOUTS,
        "schedule": 300.0,  # seconds: an unfinished 3-D Secure order waits about its reservation
    },
}


@shared_task(name=EXPIRE_CHECKOUTS)
def expire_checkouts() -> tuple[int, int]:
    """Abandon idle checkouts and cancel orders left half-paid; ``(abandoned, cancelled)``."""
    return services.expire_checkouts()
