"""Bearer-token authentication for every API blueprint.

``@authenticated(blueprint)`` (or ``@authenticated(blueprint, staff=True)``) on an operation:
the request must carry ``Authorization: Bearer <token>`` of a live token, else a 401 problem
with a ``WWW-Authenticate: Bearer`` challenge; ``staff=True`` refuses other accounts with 403.
The operation reads the caller with ``api_user()``. The decorator also documents the security
requirement and the error responses in the OpenAPI document. API calls never use the session
cookie, so they need no CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request
from flask_smorest import Blueprint

from funnel.accounts import services
from funnel.accounts.errors import ApiTokenInvalid
from funnel.accounts.models import User
from funnel.core.api import BEARER_SECURITY, errors
from funnel.core.errors import AuthenticationRequired, PermissionDenied

_API_USER = "funnel_api_user"


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
            setattr(g, _API_USER, user)
            return function(*args, **kwargs)

        documented = blueprint.doc(security=BEARER_SECURITY)(wrapper)
        return errors(blueprint, *((401, 403) if staff else (401,)))(documented)

    return decorate
