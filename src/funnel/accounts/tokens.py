"""Random tokens (stored only as hashes) and signed email-verification tokens.

Reset links and sessions carry a random token; the database keeps its SHA-256 only, so a read
of the database does not hand out working links or sessions. SHA-256 (not a slow hash) is right
here: the tokens have 256 bits of entropy, so there is nothing to brute-force.

Email verification uses a *signed* token (itsdangerous) instead of a table: verifying is
idempotent, so a link needs no single-use bookkeeping; the token carries the user id and the
address it was sent to, so it stops working if the email changes; it expires after
``VERIFICATION_MAX_AGE``; and nothing needs cleaning up. Changing ``SECRET_KEY`` invalidates
outstanding links, which a resend fixes.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

from funnel.accounts.errors import TokenInvalid
from funnel.core import clock

VERIFICATION_MAX_AGE = timedelta(days=7)
_VERIFICATION_SALT = "funnel.accounts.verify-email"
MAX_TOKEN_LENGTH = 512


def new_token() -> tuple[str, str]:
    """A fresh random token and the hash to store for it."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class _ClockSigner(TimestampSigner):
    """Timestamps from ``clock.utcnow()``, so that tests can move time."""

    def get_timestamp(self) -> int:
        return int(clock.utcnow().timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=_VERIFICATION_SALT, signer=_ClockSigner
    )


def make_verification_token(user_id: int, email: str) -> str:
    return _serializer().dumps({"user": user_id, "email": email})


def read_verification_token(token: str) -> tuple[int, str]:
    """The (user id, email) a verification token was made for. Raises TokenInvalid."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise TokenInvalid()
    try:
        payload = _serializer().loads(token, max_age=int(VERIFICATION_MAX_AGE.total_seconds()))
    except (BadSignature, ValueError, TypeError) as error:
        raise TokenInvalid() from error
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("user"), int)
        or not isinstance(payload.get("email"), str)
    ):
        raise TokenInvalid()
    return payload["user"], payload["email"]
