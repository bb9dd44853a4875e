"""Changing a password, and resetting a forgotten one through an emailed link."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from funnel.accounts import emails, passwords, queries
from funnel.accounts.errors import CurrentPasswordIncorrect, TokenInvalid, UserNotFound
from funnel.accounts.models import PasswordResetToken, normalise_email
from funnel.accounts.services.api_tokens import revoke_all_api_tokens
from funnel.accounts.services.sessions import _end_all, _start
from funnel.accounts.tokens import MAX_TOKEN_LENGTH, hash_token, new_token
from funnel.core import clock
from funnel.core.database import on_commit, transaction
from funnel.extensions import db


def change_password(
    user_id: int,
    current_password: str,
    new_password: str,
    *,
    user_agent: str | None = None,
    ip: str | None = None,
) -> str:
    """Replace the password of a signed-in user, who proves it with the current one.

    Returns the token of a fresh session for the browser that made the change.
    Raises UserNotFound, PasswordRejected (the new password breaks the rules) and
    CurrentPasswordIncorrect; nothing changes then. Side effects: stores the new hash, ends
    every session of the account (the current one included, so its old cookie stops working)
    and revokes every API token (all made with the old password), voids outstanding reset
    links, starts one new session, and emails a notice after commit.
    """
    user = queries.get_user(user_id)
    if user is None:
        raise UserNotFound()
    passwords.check_password_policy(new_password)
    if not passwords.verify_password(user.password_hash, current_password or ""):
        raise CurrentPasswordIncorrect()
    new_hash = passwords.hash_password(new_password)
    address = user.email
    with transaction():
        user.password_hash = new_hash
        _end_all(user.id)
        revoke_all_api_tokens(user.id)
        _void_reset_tokens(user.id)
        token = _start(user.id, user_agent, ip)
        on_commit(lambda: emails.send_password_changed_email(address))
    return token


def request_password_reset(email: str) -> None:
    """Email a single-use reset link valid PASSWORD_RESET_MINUTES, if the address has an account.

    Behaves the same whether or not the account exists (no email is sent when it does not), so
    that the answer reveals nothing. Raises InvalidEmail for a malformed address only.
    Side effects: stores the hash of a new token (never the token) and emails the link.
    """
    normalised = normalise_email(email)
    user = queries.find_user_by_email(normalised)
    if user is None:
        return
    minutes = int(current_app.config["PASSWORD_RESET_MINUTES"])
    token, token_hash = new_token()
    address = user.email
    with transaction() as session:
        now = clock.utcnow()
        session.add(
            PasswordResetToken(
                user_id=user.id,
                token_hash=token_hash,
                created_at=now,
                expires_at=now + timedelta(minutes=minutes),
            )
        )
        on_commit(lambda: emails.send_password_reset_email(address, token, minutes))


def check_reset_token(token: str) -> None:
    """Raise TokenInvalid unless ``token`` is a known, unused and unexpired reset token.

    Reads only: showing the reset form does not use the token up.
    """
    _usable_reset_token(token)


def reset_password(token: str, new_password: str) -> None:
    """Set a new password with a reset token, and use the token up.

    Raises TokenInvalid (unknown, used or expired token) and PasswordRejected; nothing changes
    then. Side effects: stores the new hash, marks this and every other outstanding reset token
    of the account used, ends every session and revokes every API token of the account.
    """
    reset = _usable_reset_token(token)
    passwords.check_password_policy(new_password)
    new_hash = passwords.hash_password(new_password)
    with transaction() as session:
        # Conditional update: of two concurrent submissions of one link, only one wins.
        claimed = session.execute(
            sa.update(PasswordResetToken)
            .where(PasswordResetToken.id == reset.id, PasswordResetToken.used_at.is_(None))
            .values(used_at=clock.utcnow())
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            raise TokenInvalid()
        user = queries.get_user(reset.user_id)
        if user is None:
            raise TokenInvalid()
        user.password_hash = new_hash
        _void_reset_tokens(user.id)
        _end_all(user.id)
        revoke_all_api_tokens(user.id)


def _usable_reset_token(token: str) -> PasswordResetToken:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise TokenInvalid()
    reset = queries.find_reset_token(hash_token(token))
    if reset is None or reset.used_at is not None or clock.utcnow() >= reset.expires_at:
        raise TokenInvalid()
    return reset


def _void_reset_tokens(user_id: int) -> None:
    db.session.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=clock.utcnow())
        .execution_options(synchronize_session=False)
    )
