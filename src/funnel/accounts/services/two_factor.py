"""Two-factor sign-in of staff: setting up an authenticator app, recovery codes, turning it off.

Offered to staff and admins. Setting up takes two steps: ``start_two_factor_enrolment`` makes a
secret (shown as a QR code and as text), ``confirm_two_factor_enrolment`` takes a right code
from the app, turns two-factor sign-in on and makes ten recovery codes. From then on signing in
and creating an API token ask for a code after the password; every session and API token the
account had (made with its password alone) ends then, except the browser that confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from funnel.accounts import emails, one_time_codes, passwords, queries
from funnel.accounts.errors import (
    CurrentPasswordIncorrect,
    OwnAccountProtected,
    SecondFactorInvalid,
    TwoFactorNotOffered,
    TwoFactorStateConflict,
    UserNotFound,
)
from funnel.accounts.models import RecoveryCode, TwoFactorCredential, User
from funnel.accounts.permissions import Permission, require_permission
from funnel.accounts.services.api_tokens import revoke_all_api_tokens
from funnel.accounts.services.second_factor import use_second_factor
from funnel.accounts.services.sessions import _end_all_but
from funnel.audit import services as audit
from funnel.core import clock
from funnel.core.database import on_commit, transaction
from funnel.extensions import db
from funnel.settings.queries import current_settings


@dataclass(frozen=True, slots=True)
class Enrolment:
    """An authenticator being set up: its secret, and the address its QR code holds."""

    secret: str
    uri: str


def start_two_factor_enrolment(user_id: int) -> Enrolment:
    """Make a new secret for the account's authenticator, not yet in use for sign-in.

    Starting again replaces the secret of an enrolment not confirmed. Raises UserNotFound,
    TwoFactorNotOffered (not staff) and TwoFactorStateConflict (already on).
    """
    user = _staff(user_id)
    secret = one_time_codes.new_secret()
    with transaction():
        credential = _locked_credential(user.id)
        if credential is not None and credential.is_confirmed:
            raise TwoFactorStateConflict("Two-factor sign-in is already on for your account.")
        if credential is None:
            credential = TwoFactorCredential(user_id=user.id)
            db.session.add(credential)
        credential.secret = secret
        credential.created_at = clock.utcnow()
        credential.last_used_step = None
    return _enrolment(user, secret)


def pending_enrolment(user_id: int) -> Enrolment | None:
    """The authenticator being set up (not confirmed yet), or None. Reads only."""
    user = queries.get_user(user_id)
    credential = queries.find_two_factor(user_id)
    if user is None or credential is None or credential.is_confirmed:
        return None
    return _enrolment(user, credential.secret)


def confirm_two_factor_enrolment(
    user_id: int, code: str | None, *, keep_session_token: str | None = None
) -> list[str]:
    """Turn two-factor sign-in on with a right code from the app; return the ten recovery
    codes, shown this once (only their hashes are kept).

    Raises TwoFactorNotOffered, TwoFactorStateConflict (nothing to confirm) and
    SecondFactorInvalid (not the app's code now; nothing changes). Side effects: confirms the
    secret and uses the code's time step; stores the recovery codes' hashes; ends every other
    session of the account (``keep_session_token`` is this browser's) and revokes its API tokens.
    """
    user = _staff(user_id)
    normalised = one_time_codes.normalise(code)
    with transaction():
        credential = _locked_credential(user.id)
        if credential is None or credential.is_confirmed:
            raise TwoFactorStateConflict("Start setting up two-factor sign-in first.")
        now = clock.utcnow()
        step = one_time_codes.matching_step(credential.secret, normalised, now, None)
        if step is None:
            raise SecondFactorInvalid(
                "This code is not right. Enter the 6 digits your app shows now "
                "(if it keeps failing, check that the phone's clock is right)."
            )
        credential.confirmed_at = now
        credential.last_used_step = step
        codes = _replace_recovery_codes(user.id)
        _end_all_but(user.id, keep_session_token)
        revoke_all_api_tokens(user.id)
    return codes


def regenerate_recovery_codes(user_id: int, password: str | None) -> list[str]:
    """Replace the account's recovery codes with ten new ones (returned, shown once); the old
    ones stop working. The password confirms it is the account's owner at the keyboard.

    Raises UserNotFound, TwoFactorStateConflict (two-factor sign-in is off) and
    CurrentPasswordIncorrect (nothing changes then).
    """
    user = _owner(user_id, password)
    with transaction():
        return _replace_recovery_codes(user.id)


def disable_two_factor(user_id: int, password: str | None, code: str | None) -> None:
    """Turn two-factor sign-in off, with the password and a code (the app's or a recovery code).

    Raises UserNotFound, TwoFactorStateConflict (already off), CurrentPasswordIncorrect and
    SecondFactorInvalid; nothing changes then. Side effects: deletes the secret and the
    recovery codes. Sessions and API tokens stay. If the shop requires two-factor sign-in of
    staff, the staff pages ask to set it up again at once.
    """
    user = _owner(user_id, password)
    with transaction():
        if not use_second_factor(user.id, code):
            raise SecondFactorInvalid()
        db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        db.session.execute(
            sa.delete(TwoFactorCredential).where(TwoFactorCredential.user_id == user.id)
        )


def remove_two_factor(user_id: int) -> bool:
    """Turn the account's two-factor sign-in off without a password or code: the operator's
    way back in for someone who lost both their phone and their recovery codes. Returns False
    when it was off already. Side effects: deletes the secret and the recovery codes, and ends
    every session and API token of the account (whoever holds them must sign in again).
    """
    with transaction():
        return _remove(user_id)


def reset_member_two_factor(actor: User | None, user_id: int) -> bool:
    """An admin (``staff.manage``) turns off another staff member's two-factor sign-in, for
    someone who lost both their phone and their recovery codes: the same as the operator's
    command, from the team page. Returns False when it was off already (nothing recorded).
    Raises PermissionDenied, UserNotFound (not a staff account), OwnAccountProtected (one's
    own is turned off with password and code on one's account page). Side effects: as
    ``remove_two_factor``, plus an audit entry and an email telling the member.
    """
    require_permission(actor, Permission.STAFF_MANAGE)
    assert actor is not None
    with transaction():
        member = db.session.get(User, user_id, with_for_update=True, populate_existing=True)
        if member is None or not member.is_staff:
            raise UserNotFound()
        if member.id == actor.id:
            raise OwnAccountProtected(
                "Turn your own two-factor sign-in off on your account page, with your password "
                "and a code."
            )
        if not _remove(member.id):
            return False
        audit.record(
            "staff.two_factor_reset",
            actor_user_id=actor.id,
            object_type="staff_member",
            object_id=member.id,
            object_label=member.email,
            before={"two_factor": True},
            after={"two_factor": False},
        )
        address, admin = member.email, actor.email
        on_commit(lambda: emails.send_two_factor_reset_email(address, admin))
    return True


def _remove(user_id: int) -> bool:
    """Delete the account's secret and recovery codes, end its sessions and API tokens (joins
    the transaction); False when it had no secret."""
    removed = db.session.execute(
        sa.delete(TwoFactorCredential).where(TwoFactorCredential.user_id == user_id)
    ).rowcount
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    _end_all_but(user_id, None)
    revoke_all_api_tokens(user_id)
    return removed > 0


def _staff(user_id: int) -> User:
    user = queries.get_user(user_id)
    if user is None:
        raise UserNotFound()
    if not user.is_staff:
        raise TwoFactorNotOffered()
    return user


def _owner(user_id: int, password: str | None) -> User:
    """The account, with two-factor sign-in on, whose password this is."""
    user = queries.get_user(user_id)
    if user is None:
        raise UserNotFound()
    if not queries.has_two_factor(user.id):
        raise TwoFactorStateConflict("Two-factor sign-in is off for your account.")
    if not passwords.verify_password(user.password_hash, password or ""):
        raise CurrentPasswordIncorrect()
    return user


def _locked_credential(user_id: int) -> TwoFactorCredential | None:
    return db.session.scalar(
        sa.select(TwoFactorCredential)
        .where(TwoFactorCredential.user_id == user_id)
        .with_for_update()
    )


def _replace_recovery_codes(user_id: int) -> list[str]:
    codes = one_time_codes.new_recovery_codes()
    now = clock.utcnow()
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    db.session.add_all(
        RecoveryCode(
            user_id=user_id,
            code_hash=one_time_codes.hash_recovery_code(user_id, code),
            created_at=now,
        )
        for code in codes
    )
    db.session.flush()
    return codes


def _enrolment(user: User, secret: str) -> Enrolment:
    issuer = current_settings().shop_name
    return Enrolment(secret, one_time_codes.provisioning_uri(secret, user.email, issuer))
