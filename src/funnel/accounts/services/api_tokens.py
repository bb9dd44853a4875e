"""API tokens: created with the account's email and password, listed and revoked by their owner.

The secret is ``fnl_`` plus 256 random bits, shown once; the table keeps its SHA-256 (the same
reasoning as sessions: nothing to brute-force, so no slow hash) and its first characters.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from funnel.accounts import one_time_codes, queries
from funnel.accounts.errors import (
    ApiTokenNameInvalid,
    ApiTokenNotFound,
    SecondFactorInvalid,
    SecondFactorRequired,
)
from funnel.accounts.models import API_TOKEN_NAME_LENGTH, ApiToken, User
from funnel.accounts.services.second_factor import use_second_factor
from funnel.accounts.services.sessions import check_credentials, confirm_credentials
from funnel.accounts.tokens import MAX_TOKEN_LENGTH, hash_token
from funnel.core import clock
from funnel.core.database import transaction
from funnel.extensions import db

SECRET_PREFIX = "fnl_"  # nosec B105 # noqa: S105  (marks Funnel tokens, not a secret)
DISPLAY_PREFIX_LENGTH = 12
NAME_MAX_LENGTH = API_TOKEN_NAME_LENGTH
DEFAULT_NAME = "API token"
# last_used_at is written at most this often: a write per API call would be a write per read.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token and its secret: the only time the secret is known to anyone but the client."""

    token: ApiToken
    secret: str


def create_api_token(
    email: str, password: str, name: str | None = None, code: str | None = None
) -> IssuedToken:
    """Check the credentials as a full sign-in does, and create a token for the account.

    An account with two-factor sign-in needs ``code`` too (its authenticator's current code or
    an unused recovery code, used up here): a token is made only after both factors, as a
    session is. The token expires after ``API_TOKEN_DAYS``. Raises InvalidCredentials (the same
    error for an unknown email and a wrong password), AccountDisabled, SecondFactorRequired (no
    code), SecondFactorInvalid (a wrong or used code) and ApiTokenNameInvalid. Side effects:
    inserts an ``api_tokens`` row; rehashes the password if the hashing parameters changed.
    """
    cleaned_name = _clean_name(name)
    checked = check_credentials(email, password)
    needs_code = queries.has_two_factor(checked.user.id)
    if needs_code and not one_time_codes.normalise(code):
        raise SecondFactorRequired()
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    now = clock.utcnow()
    with transaction() as session:
        confirm_credentials(checked, password)
        if needs_code and not use_second_factor(checked.user.id, code):
            raise SecondFactorInvalid()
        token = ApiToken(
            user_id=checked.user.id,
            name=cleaned_name,
            token_hash=hash_token(secret),
            prefix=secret[:DISPLAY_PREFIX_LENGTH],
            created_at=now,
            expires_at=now + timedelta(days=current_app.config["API_TOKEN_DAYS"]),
        )
        session.add(token)
        session.flush()
    return IssuedToken(token=token, secret=secret)


def revoke_api_token(user_id: int, token_id: int) -> None:
    """Revoke one of the user's tokens; it stops working at once (idempotent).

    Raises ApiTokenNotFound when the token is not the user's (nothing changes).
    Side effect: sets ``revoked_at``.
    """
    with transaction():
        token = queries.get_api_token(user_id, token_id)
        if token is None or token.revoked_at is not None:
            raise ApiTokenNotFound()
        token.revoked_at = clock.utcnow()


def revoke_all_api_tokens(user_id: int) -> int:
    """Revoke every live token of the account; return how many. Every token was created with
    the account's password, so a new password (changed or reset) ends them all."""
    result = db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=clock.utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def authenticate_api_token(secret: str | None) -> User | None:
    """The account a bearer secret belongs to while the token is neither revoked nor expired
    and the account is not disabled; None otherwise. Side effect: refreshes ``last_used_at``
    (at most once a minute)."""
    if not secret or len(secret) > MAX_TOKEN_LENGTH or not secret.startswith(SECRET_PREFIX):
        return None
    token = queries.find_api_token(hash_token(secret))
    now = clock.utcnow()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    user = token.user
    if user.is_disabled:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL:
        with transaction():
            token.last_used_at = now
    return user


def _clean_name(name: str | None) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        return DEFAULT_NAME
    if any(unicodedata.category(character) in {"Cc", "Cs"} for character in cleaned):
        raise ApiTokenNameInvalid("Remove the control characters from the name.")
    if len(cleaned) > NAME_MAX_LENGTH:
        raise ApiTokenNameInvalid(f"Use at most {NAME_MAX_LENGTH} characters.")
    return cleaned
