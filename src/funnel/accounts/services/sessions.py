"""Signing in (with its second step for accounts with two-factor sign-in) and the lifetime of
server-side sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from funnel.accounts import passwords, queries
from funnel.accounts.errors import (
    AccountDisabled,
    InvalidCredentials,
    InvalidEmail,
    SecondFactorInvalid,
    SecondStepExpired,
)
from funnel.accounts.models import User, UserSession, normalise_email
from funnel.accounts.services.second_factor import use_second_factor
from funnel.accounts.tokens import MAX_TOKEN_LENGTH, hash_token, new_token
from funnel.core import clock
from funnel.core.database import transaction
from funnel.extensions import db

# last_seen_at is refreshed at most this often: the idle timeout needs minutes, not
# milliseconds, and a write per request would be a write per page view.
TOUCH_INTERVAL = timedelta(minutes=1)
USER_AGENT_MAX_LENGTH = 512
IP_MAX_LENGTH = 45
# The second step of sign-in (a code after the right password) is open this long, for this
# many wrong codes; then the password must be entered again.
SECOND_STEP_TIME = timedelta(minutes=5)
MAX_FAILED_CODES = 5


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A started session: the user, and the token the client must present (kept secret).

    ``awaits_second_factor``: the token opens only the second step of sign-in (the account has
    two-factor sign-in and still owes a code), not a session. ``must_enrol_two_factor``: a full
    session of a staff member the shop requires to set up two-factor sign-in first.
    """

    user: User
    token: str
    awaits_second_factor: bool = False
    must_enrol_two_factor: bool = False


def sign_in(
    email: str,
    password: str,
    *,
    user_agent: str | None = None,
    ip: str | None = None,
    previous_token: str | None = None,
) -> SignedIn:
    """Check the credentials and start a new session for the account.

    For an account with two-factor sign-in, the row made is not a session yet: it awaits the
    second step (``complete_sign_in``) for SECOND_STEP_TIME, and the account is not signed in
    before it.

    Raises InvalidCredentials for an unknown email and a wrong password alike (an unknown email
    still costs one hash verification, so timing tells them apart no better than the message).
    Side effects: rehashes the password if the hashing parameters changed, records the time of
    sign-in, ends ``previous_token``'s session (signing in again never keeps two), and creates a
    ``UserSession`` row.
    """
    checked = check_credentials(email, password)
    user = checked.user
    awaits_code = queries.has_two_factor(user.id)
    with transaction():
        confirm_credentials(checked, password)
        now = clock.utcnow()
        if previous_token:
            _end_by_token(previous_token)
        if awaits_code:
            token = _start(user.id, user_agent, ip, second_step_until=now + SECOND_STEP_TIME)
        else:
            user.last_sign_in_at = now
            token = _start(user.id, user_agent, ip)
    return SignedIn(
        user=user,
        token=token,
        awaits_second_factor=awaits_code,
        must_enrol_two_factor=not awaits_code and queries.is_two_factor_enrolment_due(user),
    )


def pending_sign_in(token: str | None) -> User:
    """The account whose sign-in awaits its second step under ``token``.

    Raises SecondStepExpired when there is no such step open (unknown or ended token, too late),
    AccountDisabled when the account was disabled meanwhile (that step ends: its only write).
    """
    return _open_second_step(token).user


def complete_sign_in(
    token: str | None,
    code: str | None,
    *,
    user_agent: str | None = None,
    ip: str | None = None,
) -> SignedIn:
    """The second step of sign-in: accept the account's code and start its session.

    ``code`` is the authenticator's current code or one of the account's unused recovery
    codes; either is used up. Raises SecondStepExpired (no step open: too late, too many wrong
    codes, unknown token), AccountDisabled (disabled meanwhile; the step ends) and
    SecondFactorInvalid (wrong or used code: the step stays open until MAX_FAILED_CODES).
    Side effects: ends the step's row and starts a session with a new token (the token that
    opened the step never becomes a session); records the time of sign-in; counts wrong codes.
    """
    row = _open_second_step(token)
    user = row.user
    with transaction() as session:
        if use_second_factor(user.id, code):
            ended = _end_where(UserSession.id == row.id)
            if ended != 1:
                raise SecondStepExpired()
            user.last_sign_in_at = clock.utcnow()
            return SignedIn(user=user, token=_start(user.id, user_agent, ip))
        open_step = sa.and_(UserSession.id == row.id, UserSession.ended_at.is_(None))
        session.execute(
            sa.update(UserSession)
            .where(open_step)
            .values(failed_codes=UserSession.failed_codes + 1)
            .execution_options(synchronize_session=False)
        )
        is_over = session.execute(
            sa.update(UserSession)
            .where(open_step, UserSession.failed_codes >= MAX_FAILED_CODES)
            .values(ended_at=clock.utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
    if is_over:
        raise SecondStepExpired("Too many wrong codes. Enter your email and password again.")
    raise SecondFactorInvalid()


def _open_second_step(token: str | None) -> UserSession:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise SecondStepExpired()
    row = queries.find_session(hash_token(token))
    if row is not None and row.second_step_expires_at is not None and row.user.is_disabled:
        # Said only to whoever knew the password, as at the first step; the step ends.
        _end_where(UserSession.id == row.id)
        raise AccountDisabled()
    if (
        row is None
        or row.ended_at is not None
        or row.second_step_expires_at is None
        or clock.utcnow() >= row.second_step_expires_at
    ):
        raise SecondStepExpired()
    return row


@dataclass(frozen=True, slots=True)
class CheckedCredentials:
    """An account whose password was checked: the hash it matched, and a fresh hash of the
    password when that one was made with older parameters (None otherwise)."""

    user: User
    checked_hash: str
    new_hash: str | None


def check_credentials(email: str, password: str) -> CheckedCredentials:
    """The account whose email and password these are, with the hash they matched and a fresh
    hash of the password when the stored one was made with older parameters. Writes nothing.

    Raises InvalidCredentials for an unknown email and a wrong password alike (an unknown email
    still costs one hash verification, so timing tells them apart no better than the message);
    AccountDisabled for the right password of an account staff disabled.
    Sign-in and API token creation both check credentials here.
    """
    try:
        normalised = normalise_email(email)
    except InvalidEmail:
        passwords.spend_verification_time()
        raise InvalidCredentials() from None
    if not password or len(passwords.normalise_password(password)) > passwords.MAX_LENGTH:
        # No account has such a password; refusing before hashing bounds the work per attempt.
        passwords.spend_verification_time()
        raise InvalidCredentials()
    user = queries.find_user_by_email(normalised)
    if user is None:
        passwords.spend_verification_time()
        raise InvalidCredentials()
    if not passwords.verify_password(user.password_hash, password):
        raise InvalidCredentials()
    if user.is_disabled:
        raise AccountDisabled()
    # Hashed outside any transaction: on SQLite a write transaction holds the database lock.
    new_hash = (
        passwords.hash_password(password) if passwords.needs_rehash(user.password_hash) else None
    )
    return CheckedCredentials(user=user, checked_hash=user.password_hash, new_hash=new_hash)


def confirm_credentials(checked: CheckedCredentials, password: str) -> None:
    """In the transaction that creates a session or an API token: lock the account's row and
    make sure the password checked is still the account's, then store the fresh hash if any.

    The check ran outside the transaction (hashing is slow); a password change or reset that
    committed meanwhile has ended every credential, and one created now with the old password
    would outlive it. Raises InvalidCredentials then. A hash changed by a concurrent rehash
    (same password, new parameters) still verifies, so it is no reason to refuse.
    """
    current = db.session.scalar(
        sa.select(User.password_hash).where(User.id == checked.user.id).with_for_update()
    )
    if current is None:
        raise InvalidCredentials()
    if current != checked.checked_hash:
        if not passwords.verify_password(current, password):
            raise InvalidCredentials()
        return  # rehashed concurrently: keep that hash
    if checked.new_hash is not None:
        checked.user.password_hash = checked.new_hash


def start_session(user_id: int, *, user_agent: str | None = None, ip: str | None = None) -> str:
    """Start a session for ``user_id`` without checking a password; return its token.

    For flows that have already proven who the user is (registration, password change).
    Side effect: creates a ``UserSession`` row.
    """
    with transaction():
        return _start(user_id, user_agent, ip)


def resume_session(token: str | None) -> User | None:
    """The user whose session ``token`` is, while the session is valid; else None.

    Valid means: the row exists and has not ended, its account is not disabled, it was seen
    within SESSION_IDLE_MINUTES and began within SESSION_ABSOLUTE_MINUTES (for staff and
    admins: the shorter STAFF_SESSION_IDLE_MINUTES and STAFF_SESSION_ABSOLUTE_MINUTES).
    Side effects: refreshes ``last_seen_at`` when it is older than a minute; ends a session
    found past either timeout.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = queries.find_session(hash_token(token))
    if row is None or row.ended_at is not None or row.awaits_second_factor:
        return None
    user = row.user
    if user.is_disabled:
        return None
    now = clock.utcnow()
    config = current_app.config
    prefix = "STAFF_" if user.is_staff else ""
    idle_limit = timedelta(minutes=config[f"{prefix}SESSION_IDLE_MINUTES"])
    absolute_limit = timedelta(minutes=config[f"{prefix}SESSION_ABSOLUTE_MINUTES"])
    if now - row.last_seen_at >= idle_limit or now - row.created_at >= absolute_limit:
        _end_where(UserSession.id == row.id)
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        with transaction() as session:
            session.execute(
                sa.update(UserSession)
                .where(UserSession.id == row.id, UserSession.ended_at.is_(None))
                .values(last_seen_at=now)
            )
    return user


def end_session(token: str | None) -> None:
    """End the session ``token`` belongs to (sign-out). Unknown or ended tokens are ignored.

    Side effect: sets ``ended_at``, so that a replayed cookie is no longer signed in.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return
    with transaction():
        _end_by_token(token)


def end_all_sessions(user_id: int) -> int:
    """End every open session of the account; return how many were ended."""
    with transaction():
        return _end_all(user_id)


def _start(
    user_id: int,
    user_agent: str | None,
    ip: str | None,
    *,
    second_step_until: datetime | None = None,
) -> str:
    token, token_hash = new_token()
    db.session.add(
        UserSession(
            user_id=user_id,
            token_hash=token_hash,
            user_agent=(user_agent or "")[:USER_AGENT_MAX_LENGTH] or None,
            ip=(ip or "")[:IP_MAX_LENGTH] or None,
            second_step_expires_at=second_step_until,
            failed_codes=0 if second_step_until is not None else None,
        )
    )
    db.session.flush()
    return token


def _end_by_token(token: str) -> None:
    _end_where(UserSession.token_hash == hash_token(token))


def _end_all(user_id: int) -> int:
    return _end_where(UserSession.user_id == user_id)


def _end_all_but(user_id: int, token: str | None) -> int:
    """End every open session of the account except the one of ``token`` (this browser's)."""
    condition = UserSession.user_id == user_id
    if token:
        condition = sa.and_(condition, UserSession.token_hash != hash_token(token))
    return _end_where(condition)


def _end_where(condition: sa.ColumnElement[bool]) -> int:
    with transaction() as session:
        result = session.execute(
            sa.update(UserSession)
            .where(condition, UserSession.ended_at.is_(None))
            .values(ended_at=clock.utcnow())
            .execution_options(synchronize_session=False)
        )
        return result.rowcount
