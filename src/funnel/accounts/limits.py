"""Rate limits on account entry points, shared by the HTML pages and the JSON API.

The limits are *shared* (one counter per scope and key): a client cannot get ten more sign-in
attempts by switching from the form to ``POST /api/v1/auth/tokens``.

When the counts' store (Redis) does not answer, Flask-Limiter counts in each process's memory
until it is back: each worker of each instance would then give a password guesser a budget of
its own. Sign-in (both steps) fails closed instead: ``SignInPaused`` (503, ``Retry-After``),
asked of the store at each attempt. The rest of the shop, guest checkout included, goes on.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from flask import Response, current_app, request, session
from flask_login import current_user

from funnel.accounts.errors import SignInPaused
from funnel.extensions import limiter

log = logging.getLogger(__name__)

SIGN_IN_PER_CLIENT = "10/minute"
SIGN_IN_FAILURES_PER_EMAIL = "5/minute"
REGISTRATION_PER_CLIENT = "5 per 15 minutes"
SECOND_STEP_FAILURES_PER_ACCOUNT = "5/minute"
TWO_FACTOR_CHANGES_PER_ACCOUNT = "10/minute"
# The session key ``access.PENDING_USER_KEY`` stores the account of a second step under.
SECOND_STEP_USER_KEY = "second_step_user"


def _submitted_email() -> str:
    """The email of a sign-in form or JSON body (lower-cased, cut to an address's length)."""
    email = request.form.get("email")
    if email is None and request.is_json:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    return "sign-in-email:" + (email if isinstance(email, str) else "").strip().lower()[:254]


def _failed(response: Response) -> bool:
    """Only failed sign-ins count towards the per-email limit (a success redirects or creates
    a token); an attempt the shop could not check (a 5xx: signing in paused) is no failure."""
    return 400 <= response.status_code < 500


def limits_store_answers() -> bool:
    """Whether the rate limits' store answers (always, with limits off)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    try:
        return bool(limiter.storage.check())
    except Exception:  # a store that cannot even be asked does not answer
        return False


def _closed_while_store_away(function: Any) -> Any:
    """Refuse a sign-in attempt (a POST) while the attempt counts cannot be kept shared."""

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if request.method == "POST" and not limits_store_answers():
            log.warning("sign-in refused: the rate limits' store does not answer")
            raise SignInPaused()
        return function(*args, **kwargs)

    return checked


def sign_in_limits(function: Any) -> Any:
    """Both sign-in limits: per client address, and failures per email address; closed while
    their store does not answer."""
    per_client = limiter.shared_limit(SIGN_IN_PER_CLIENT, scope="sign-in", methods=["POST"])
    per_email = limiter.shared_limit(
        SIGN_IN_FAILURES_PER_EMAIL,
        scope="sign-in-email",
        key_func=_submitted_email,
        methods=["POST"],
        deduct_when=_failed,
    )
    return per_client(per_email(_closed_while_store_away(function)))


def _registered(response: Response) -> bool:
    """Only a registration that made an account counts: the page redirects to the profile,
    the API answers 201. A form sent back with its errors costs nothing."""
    return response.status_code in (201, 302)


def registration_limit(function: Any) -> Any:
    """Accounts made per client address (the page and the API share the counter); past the
    limit a 429 says when to try again (``Retry-After``)."""
    return limiter.shared_limit(
        REGISTRATION_PER_CLIENT,
        scope="registration",
        methods=["POST"],
        deduct_when=_registered,
    )(function)


def _second_step_account() -> str:
    """The account whose second step of sign-in this browser is in (from the signed cookie)."""
    return f"second-step-account:{session.get(SECOND_STEP_USER_KEY, '')}"


def second_step_limits(function: Any) -> Any:
    """The second step of sign-in shares the sign-in limit per client address, and wrong codes
    are limited per account (whichever browser sends them); closed while their store does not
    answer."""
    per_client = limiter.shared_limit(SIGN_IN_PER_CLIENT, scope="sign-in", methods=["POST"])
    per_account = limiter.shared_limit(
        SECOND_STEP_FAILURES_PER_ACCOUNT,
        scope="second-step-account",
        key_func=_second_step_account,
        methods=["POST"],
        deduct_when=_failed,
    )
    return per_client(per_account(_closed_while_store_away(function)))


def two_factor_change_limit(function: Any) -> Any:
    """Confirming, turning off and renewing codes, per signed-in account: codes and the
    password are not to be guessed through these pages either."""
    return limiter.limit(
        TWO_FACTOR_CHANGES_PER_ACCOUNT,
        key_func=lambda: f"two-factor-change:{current_user.get_id()}",
        methods=["POST"],
    )(function)
