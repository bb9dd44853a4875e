"""Account jobs. ``BEAT_SCHEDULE`` lists the periodic ones for Celery beat."""

from __future__ import annotations

import logging

from celery import shared_task

from funnel.accounts.services.housekeeping import delete_expired_sign_in_records

log = logging.getLogger(__name__)

DELETE_EXPIRED_SIGN_INS = "funnel.accounts.tasks.delete_expired_sign_ins"

BEAT_SCHEDULE = {
    "accounts-delete-expired-sign-ins": {
        "task": DELETE_EXPIRED_SIGN_INS,
        "schedule": 60 * 60.0,  # seconds: lapsed records open nothing; this tidies
    },
}


@shared_task(name=DELETE_EXPIRED_SIGN_INS)
def delete_expired_sign_ins() -> int:
    """Delete lapsed sign-in steps, old sessions and expired reset links; returns how many."""
    deleted = delete_expired_sign_in_records()
    if deleted.total:
        log.info(
            "deleted %d lapsed sign-in steps, %d old sessions, %d expired reset links",
            deleted.sign_in_steps,
            deleted.sessions,
            deleted.reset_links,
        )
    return deleted.total
