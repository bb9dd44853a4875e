"""Deleting sign-in records that can no longer be used, so that the tables hold live ones.

A lapsed second step of sign-in, a session ended (or past its timeouts) for longer than the
retention period and an expired password reset link open nothing any more; kept for ever they
would only grow the tables and the data held about people. Sessions and reset links are kept a
while after they stop working, so that "this link has expired" and the account's recent
sign-ins stay readable for that long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from funnel.accounts.models import PasswordResetToken, UserSession
from funnel.core import clock
from funnel.core.database import transaction

RETENTION = timedelta(days=30)
RESET_LINK_RETENTION = timedelta(days=7)


@dataclass(frozen=True)
class DeletedSignInRecords:
    """How many rows of each kind the run deleted."""

    sign_in_steps: int
    sessions: int
    reset_links: int

    @property
    def total(self) -> int:
        return self.sign_in_steps + self.sessions + self.reset_links


def _session_cutoff() -> timedelta:
    """How long after its last use a session row is kept: the retention period, or the longest
    idle timeout if an operator set a longer one (a session still valid is never deleted)."""
    config = current_app.config
    longest_idle = max(config["SESSION_IDLE_MINUTES"], config["STAFF_SESSION_IDLE_MINUTES"])
    return max(RETENTION, timedelta(minutes=longest_idle))


def delete_expired_sign_in_records() -> DeletedSignInRecords:
    """Delete lapsed sign-in steps, sessions unused or ended for the retention period, and
    password reset links expired for a week. Returns how many of each were deleted."""
    now = clock.utcnow()
    session_cutoff = now - _session_cutoff()
    with transaction() as session:
        steps = session.execute(
            sa.delete(UserSession).where(
                UserSession.second_step_expires_at.is_not(None),
                UserSession.second_step_expires_at < now,
            )
        ).rowcount
        sessions = session.execute(
            sa.delete(UserSession).where(
                UserSession.second_step_expires_at.is_(None),
                sa.or_(
                    UserSession.ended_at < session_cutoff,
                    UserSession.last_seen_at < session_cutoff,
                ),
            )
        ).rowcount
        reset_links = session.execute(
            sa.delete(PasswordResetToken).where(
                PasswordResetToken.expires_at < now - RESET_LINK_RETENTION
            )
        ).rowcount
    return DeletedSignInRecords(steps, sessions, reset_links)
