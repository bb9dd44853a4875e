"""Who is calling, for the accounts domain and every other: the browser's session, or the API's
bearer token.

Pages: Flask-Login on server-side sessions. The Flask session cookie carries a random session
token; ``user_sessions`` holds its hash. The user loader accepts the session only while its row
is open and within the idle and absolute timeouts (see ``services.resume_session``), so signing
out on the server really ends the session, even for a copy of the cookie. ``require_staff`` is
the ``before_request`` of the staff pages.

Two-factor sign-in: after the right password, an account with a second factor gets a token
under another key (``PENDING_TOKEN_KEY``) that Flask-Login never reads: it opens only the
second step of sign-in (``services.complete_sign_in``), which starts the real session. When the
shop requires two-factor sign-in of staff, a staff account without it is sent from the staff
pages to its security page, and the staff API refuses it (403 ``two_factor_enrolment_required``).

API: ``@authenticated(blueprint)`` (or ``@authenticated(blueprint, staff=True)``) on an
operation: the request must carry ``Authorization: Bearer <token>`` of a live token, else a 401
problem with a ``WWW-Authenticate: Bearer`` challenge; ``staff=True`` refuses other accounts with
403. The operation reads the caller with ``api_user()``. The decorator also documents the
security requirement and the error responses in the OpenAPI document. API calls never use the
session cookie, so they need no CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_smorest import Blueprint

from funnel.accounts import queries, services
from funnel.accounts.errors import ApiTokenInvalid, TwoFactorEnrolmentRequired
from funnel.accounts.models import User
from funnel.core.api import BEARER_SECURITY, errors
from funnel.core.errors import AuthenticationRequired, PermissionDenied
from funnel.extensions import login_manager

SESSION_TOKEN_KEY = "session_token"  # nosec B105 # noqa: S105  (a key name, not a secret)
PENDING_TOKEN_KEY = "second_step_token"  # nosec B105 # noqa: S105  (a key name, not a secret)
# Whose second step it is: only the key of the per-account rate limit on codes
# (``limits.SECOND_STEP_USER_KEY`` reads it; the two sit side by side in the layers).
PENDING_USER_KEY = "second_step_user"
API_PATH_PREFIX = "/api/"
# Where Flask-Login keeps the signed-in account's id in the session.
USER_ID_KEY = "_user_id"
_API_USER = "funnel_api_user"


def init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.login_message_category = "info"
    login_manager.user_loader(_load_user)
    app.before_request(_forget_cached_user)


def _forget_cached_user() -> None:
    """Authenticate every request afresh.

    Flask-Login caches the user in ``g``, which lives as long as the application context. A
    request normally gets its own context, but one pushed around several requests (tests, a
    worker) would otherwise carry the previous request's user into the next one.
    """
    g.pop("_login_user", None)


def _load_user(user_id: str) -> User | None:
    user = services.resume_session(session.get(SESSION_TOKEN_KEY))
    if user is None or str(user.id) != user_id:
        session.pop(SESSION_TOKEN_KEY, None)
        session.pop("_user_id", None)
        return None
    return user


def client_details() -> dict[str, str | None]:
    """What is recorded about the browser that signs in (shown to the user, kept short)."""
    return {"user_agent": request.user_agent.string or None, "ip": request.remote_addr}


def current_session_token() -> str | None:
    return session.get(SESSION_TOKEN_KEY)


def establish(user: User, token: str) -> None:
    """Tie this browser to a newly started server-side session.

    The Flask session is cleared first: whatever an attacker may have planted in it before
    sign-in (session fixation) is gone, and the cookie changes.
    """
    session.clear()
    login_user(user)
    session[SESSION_TOKEN_KEY] = token


def await_second_factor(user: User, token: str) -> None:
    """Remember, in this browser, a sign-in that awaits its second step (not a session: the
    user is not signed in). Cleared first, as ``establish`` does."""
    logout_user()
    session.clear()
    session[PENDING_TOKEN_KEY] = token
    session[PENDING_USER_KEY] = user.id


def pending_token() -> str | None:
    return session.get(PENDING_TOKEN_KEY)


def end() -> None:
    """Forget the session in this browser (the caller ends the server-side row)."""
    logout_user()
    session.clear()


def request_account() -> User | None:
    """Who is calling: the bearer token's account on the API (which never reads the session
    cookie), the signed-in account on pages; None for a guest."""
    if request.path.startswith(API_PATH_PREFIX):
        return bearer_user()
    if USER_ID_KEY not in session:
        # Nobody signed in (Flask-Login keeps the id there, and no remember-me cookie is set):
        # a guest, without asking Flask-Login to load one. Every counted page asks this.
        return None
    return current_user if current_user.is_authenticated else None


def request_account_id() -> int | None:
    account = request_account()
    return account.id if account is not None else None


def is_staff_request() -> bool:
    """Staff using their own shop are not customers: their visits are not counted."""
    account = request_account()
    return account is not None and account.is_staff


def require_staff() -> Any:
    """``before_request`` for staff blueprints: visitors sign in first, customers get 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_staff:
        abort(403, description="This page is for shop staff only.")
    if queries.is_two_factor_enrolment_due(current_user):
        flash(TwoFactorEnrolmentRequired.title, "info")
        return redirect(url_for("accounts.security"))
    return None


def refuse_staff_without_two_factor(user: User) -> None:
    """For staff API operations: raises TwoFactorEnrolmentRequired (403) when the shop requires
    two-factor sign-in of staff and ``user`` has not set it up."""
    if queries.is_two_factor_enrolment_due(user):
        raise TwoFactorEnrolmentRequired()


# -- the API's bearer token -----------------------------------------------------------------------


def bearer_secret() -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def authenticate() -> User:
    """The account of the request's bearer token.

    Raises AuthenticationRequired without a token and ApiTokenInvalid for an unknown, expired
    or revoked one (both 401).
    """
    secret = bearer_secret()
    if secret is None:
        raise AuthenticationRequired("Send an API token: Authorization: Bearer <token>.")
    user = services.authenticate_api_token(secret)
    if user is None:
        raise ApiTokenInvalid()
    return user


def bearer_user() -> User | None:
    """The account of the request's bearer token if it is live, else None (no token, or a
    dead one): for code that only asks who is calling, such as the sales funnel's counting."""
    user: User | None = g.get(_API_USER)
    if user is None and (secret := bearer_secret()) is not None:
        user = services.authenticate_api_token(secret)
        if user is not None:
            setattr(g, _API_USER, user)
    return user


def api_user() -> User:
    """The caller of an ``@authenticated`` operation."""
    return g.get(_API_USER) or authenticate()


def authenticated(blueprint: Blueprint, *, staff: bool = False) -> Callable[[Any], Any]:
    def decorate(function: Any) -> Any:
        @wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = authenticate()
            if staff and not user.is_staff:
                raise PermissionDenied("This operation is for shop staff only.")
            if staff:
                refuse_staff_without_two_factor(user)
            setattr(g, _API_USER, user)
            return function(*args, **kwargs)

        documented = blueprint.doc(security=BEARER_SECURITY)(wrapper)
        return errors(blueprint, *((401, 403) if staff else (401,)))(documented)

    return decorate
