"""Checkout jobs. ``BEAT_SCHEDULE`` lists the periodic ones for Celery beat."""

from __future__ import annotations

from celery import shared_task

from funnel.checkout import services

EXPIRE_CHECKOUTS = "funnel.checkout.tasks.expire_checkouts"
RECONCILE_CHARGES = "funnel.checkout.tasks.reconcile_charges"

BEAT_SCHEDULE = {
    "checkout-expire-checkouts": {
        "task": EXPIRE_CHECKOUTS,
        "schedule": 300.0,  # seconds: an unfinished 3-D Secure order waits about its reservation
    },
    "checkout-reconcile-charges": {
        "task": RECONCILE_CHARGES,
        "schedule": 3600.0,  # hourly, over the last 48 hours: each charge is seen many times
    },
}


@shared_task(name=EXPIRE_CHECKOUTS)
def expire_checkouts() -> tuple[int, int]:
    """Abandon idle checkouts and cancel orders left half-paid; ``(abandoned, cancelled)``."""
    return services.expire_checkouts()


@shared_task(name=RECONCILE_CHARGES)
def reconcile_charges() -> dict[str, int]:
    """End every gateway charge of the last 48 h in a paid order or a refund; counts by finding."""
    report = services.reconcile_charges()
    return {finding.value: report.count(finding) for finding in services.Finding}
