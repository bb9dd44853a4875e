"""The hourly job that deletes sign-in records which open nothing any more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from funnel.accounts import services
from funnel.accounts.models import PasswordResetToken, UserSession
from funnel.accounts.tokens import new_token
from funnel.core import clock
from funnel.extensions import db
from tests.factories.accounts import UserFactory

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _session_row(user_id: int, label: str, **times: datetime | None) -> None:
    db.session.add(
        UserSession(
            user_id=user_id,
            token_hash=new_token()[1],
            user_agent=label,
            created_at=times.pop("created_at", NOON - timedelta(days=40)),
            **times,
        )
    )


def _reset_link(user_id: int, expires_at: datetime) -> None:
    db.session.add(
        PasswordResetToken(user_id=user_id, token_hash=new_token()[1], expires_at=expires_at)
    )


def _remaining_sessions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(UserSession.user_agent).order_by(UserSession.id)))


def _remaining_reset_expiries() -> list[datetime]:
    db.session.expire_all()
    return [
        expiry.replace(tzinfo=UTC)
        for expiry in db.session.scalars(
            select(PasswordResetToken.expires_at).order_by(PasswordResetToken.id)
        )
    ]


@pytest.mark.story("US-59")
def test_the_job_deletes_lapsed_sign_in_steps_old_sessions_and_expired_reset_links(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given, at noon, a signed-in browser and rows that open nothing any more, beside rows that
    # still do (or are kept a while longer)
    monkeypatch.setattr(clock, "utcnow", lambda: NOON)
    user = UserFactory()
    live_token = services.start_session(user.id, user_agent="live")
    _session_row(user.id, "step lapsed", second_step_expires_at=NOON - timedelta(seconds=1))
    _session_row(user.id, "step open", second_step_expires_at=NOON + timedelta(minutes=4))
    _session_row(
        user.id,
        "ended 31 days ago",
        ended_at=NOON - timedelta(days=31),
        last_seen_at=NOON - timedelta(days=31),
    )
    _session_row(
        user.id,
        "ended yesterday",
        ended_at=NOON - timedelta(days=1),
        last_seen_at=NOON - timedelta(days=1),
    )
    _session_row(user.id, "unused 31 days", last_seen_at=NOON - timedelta(days=31))
    _reset_link(user.id, NOON - timedelta(days=8))
    _reset_link(user.id, NOON - timedelta(days=1))
    _reset_link(user.id, NOON + timedelta(hours=1))
    db.session.commit()

    # when the operator runs the job once
    result = app.test_cli_runner().invoke(args=["jobs", "run", "accounts-delete-expired-sign-ins"])

    # then the lapsed step, the month-old sessions and the week-expired link are gone; the live
    # session still signs its browser in
    assert result.exit_code == 0, result.output
    assert result.output == "accounts-delete-expired-sign-ins: done (4)\n"
    assert _remaining_sessions() == ["live", "step open", "ended yesterday"]
    assert _remaining_reset_expiries() == [NOON - timedelta(days=1), NOON + timedelta(hours=1)]
    resumed = services.resume_session(live_token)
    assert resumed is not None
    assert resumed.id == user.id


@pytest.mark.config(SESSION_IDLE_MINUTES=60 * 24 * 60)
def test_a_session_still_within_a_longer_idle_timeout_is_kept(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a shop whose sessions may stay idle for 60 days, and one unused for 31 days
    monkeypatch.setattr(clock, "utcnow", lambda: NOON)
    user = UserFactory()
    _session_row(user.id, "idle 31 days", last_seen_at=NOON - timedelta(days=31))
    db.session.commit()

    # when the job runs
    result = app.test_cli_runner().invoke(args=["jobs", "run", "accounts-delete-expired-sign-ins"])

    # then that session is kept: it would still sign its browser in
    assert result.output == "accounts-delete-expired-sign-ins: done (0)\n"
    assert _remaining_sessions() == ["idle 31 days"]
