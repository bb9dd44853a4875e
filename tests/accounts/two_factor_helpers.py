"""Helpers of the two-factor sign-in tests: codes as an authenticator app computes them (pyotp,
at the test's clock), enrolment through the services, the second step through the pages."""

from __future__ import annotations

import re
from datetime import datetime

import pyotp
import sqlalchemy as sa
from flask.testing import FlaskClient

from funnel.accounts import services
from funnel.accounts.models import RecoveryCode, TwoFactorCredential, User, UserSession
from funnel.accounts.permissions import settings_editor
from funnel.extensions import db
from funnel.settings import services as settings_services
from funnel.settings.values import STAFF_TWO_FACTOR_REQUIRED
from tests.factories.accounts import KNOWN_PASSWORD


def app_code(secret: str, now: datetime) -> str:
    """What an authenticator app shows at ``now`` (pyotp, independent of the shop's code)."""
    return pyotp.TOTP(secret).at(now)


def enrol(user: User, now: datetime) -> tuple[str, list[str]]:
    """Turn two-factor sign-in on for ``user``; its secret and recovery codes."""
    enrolment = services.start_two_factor_enrolment(user.id)
    codes = services.confirm_two_factor_enrolment(user.id, app_code(enrolment.secret, now))
    return enrolment.secret, codes


def secret_on_page(html: str) -> str:
    """The secret the enrolment page shows as text (groups of four), as a person types it."""
    match = re.search(r'<code id="two-factor-secret">([A-Z2-7 ]+)</code>', html)
    assert match is not None, html
    return match.group(1).replace(" ", "")


def recovery_codes_on_page(html: str) -> list[str]:
    return re.findall(
        r"<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code></li>", html
    )


def password_step(client: FlaskClient, email: str, next_url: str | None = None):
    url = "/account/sign-in" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": KNOWN_PASSWORD})


def code_step(client: FlaskClient, code: str, next_url: str | None = None):
    url = "/account/sign-in/code" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"code": code})


def is_signed_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def credential_of(user: User) -> TwoFactorCredential | None:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(TwoFactorCredential).where(TwoFactorCredential.user_id == user.id)
    )


def unused_recovery_codes(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )


def sessions_of(user: User) -> list[UserSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
        )
    )


def require_two_factor_of_staff(admin: User, required: bool = True) -> None:
    settings_services.update_settings(settings_editor(admin), {STAFF_TWO_FACTOR_REQUIRED: required})
