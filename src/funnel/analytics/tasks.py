"""Analytics jobs. ``BEAT_SCHEDULE`` lists the periodic ones for Celery beat."""

from __future__ import annotations

from celery import shared_task

from funnel.analytics import services

DELETE_OLD_EVENTS = "funnel.analytics.tasks.delete_old_events"

BEAT_SCHEDULE = {
    "analytics-delete-old-events": {"task": DELETE_OLD_EVENTS, "schedule": 24 * 60 * 60.0},
}


@shared_task(name=DELETE_OLD_EVENTS)
def delete_old_events() -> int:
    """Delete funnel events older than the retention period; returns how many."""
    return services.delete_old_events()
