"""Rate limits on account entry points, shared by the HTML pages and the JSON API.

The limits are *shared* (one counter per scope and key): a client cannot get ten more sign-in
attempts by switching from the form to ``POST /api/v1/auth/tokens``.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request, session
from flask_login import current_user

from funnel.extensions import limiter

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
    a token)."""
    return response.status_code >= 400


def sign_in_limits(function: Any) -> Any:
    """Both sign-in limits: per client address, and failures per email address."""
    per_client = limiter.shared_limit(SIGN_IN_PER_CLIENT, scope="sign-in", methods=["POST"])
    per_email = limiter.shared_limit(
        SIGN_IN_FAILURES_PER_EMAIL,
        scope="sign-in-email",
        key_func=_submitted_email,
        methods=["POST"],
        deduct_when=_failed,
    )
    return per_client(per_email(function))


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
    are limited per account (whichever browser sends them)."""
    per_client = limiter.shared_limit(SIGN_IN_PER_CLIENT, scope="sign-in", methods=["POST"])
    per_account = limiter.shared_limit(
        SECOND_STEP_FAILURES_PER_ACCOUNT,
        scope="second-step-account",
        key_func=_second_step_account,
        methods=["POST"],
        deduct_when=_failed,
    )
    return per_client(per_account(function))


def two_factor_change_limit(function: Any) -> Any:
    """Confirming, turning off and renewing codes, per signed-in account: codes and the
    password are not to be guessed through these pages either."""
    return limiter.limit(
        TWO_FACTOR_CHANGES_PER_ACCOUNT,
        key_func=lambda: f"two-factor-change:{current_user.get_id()}",
        methods=["POST"],
    )(function)
