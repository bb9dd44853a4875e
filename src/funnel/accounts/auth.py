"""Flask-Login on server-side sessions, and the access checks for protected blueprints.

The Flask session cookie carries a random session token; ``user_sessions`` holds its hash.
The user loader accepts the session only while its row is open and within the idle and
absolute timeouts (see ``services.resume_session``), so signing out on the server really ends
the session, even for a copy of the cookie.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, g, request, session
from flask_login import current_user, login_user, logout_user

from funnel.accounts import api_auth, services
from funnel.accounts.models import User
from funnel.extensions import login_manager

SESSION_TOKEN_KEY = "session_token"  # noqa: S105  (a key name, not a secret)
API_PATH_PREFIX = "/api/"


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


def end() -> None:
    """Forget the session in this browser (the caller ends the server-side row)."""
    logout_user()
    session.clear()


def request_account() -> User | None:
    """Who is calling: the bearer token's account on the API (which never reads the session
    cookie), the signed-in account on pages; None for a guest."""
    if request.path.startswith(API_PATH_PREFIX):
        return api_auth.bearer_user()
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
    return None
