"""Report jobs. ``BEAT_SCHEDULE`` lists the periodic ones for Celery beat.

The reports read; this job keeps the funnel's daily summary they read (``analytics.summaries``)
in the shop's time zone, which only a domain above the settings knows.
"""

from __future__ import annotations

from celery import shared_task

from funnel.analytics import summaries
from funnel.settings import queries as settings_queries

SUMMARISE_FUNNEL = "funnel.reports.tasks.summarise_funnel"

BEAT_SCHEDULE = {
    "reports-summarise-funnel": {
        "task": SUMMARISE_FUNNEL,
        # seconds: a day is summarised within minutes of settling; a run with nothing to do
        # reads one row
        "schedule": 300.0,
    },
}


@shared_task(name=SUMMARISE_FUNNEL)
def summarise_funnel() -> dict[str, object]:
    """Bring the funnel's daily summary up to the last settled shop day; what the run did."""
    run = summaries.summarise(settings_queries.current_settings().time_zone)
    return {
        "time_zone": run.time_zone,
        "days": run.days,
        "late_events": run.late_events,
        "summarised_through": run.summarised_through.isoformat()
        if run.summarised_through
        else None,
        "started_again": run.started_again,
    }
