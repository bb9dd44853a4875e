"""Who may reach which cart: a browser by its cookie (and the merge at sign-in), an API client
by the cart's secret or its account's bearer token.

Pages: a guest's cart is found by a random token in the ``funnel_cart`` cookie (HttpOnly,
SameSite=Lax, Secure like the session cookie, 30 days, renewed by every change); the cart itself
is stored on the server. A signed-in customer's cart belongs to the account, whatever the
cookie says. When a signed-in request still carries a guest cart's cookie (the visitor has just
signed in), a ``before_request`` merges that cart into the account's and the cookie is dropped:
no signal, and nothing for the accounts domain to know.

No cart is made until something is put in it: pages only read (``current_cart_id()``), and the
navigation's item count costs one query, only for a browser with a cart cookie or an account.

API (the carts API and the checkout API share it): a guest's cart (no account) is reached with
its secret in the ``Cart-Secret`` header, compared in constant time; an account's cart only with
that account's bearer token. Anything else is the cart domain's 404, exactly as for a cart that
does not exist, so that cart ids cannot be probed. A bearer token that is sent must be live: an
unknown, expired or revoked one is a 401 even when the cart secret alone would have opened the
cart. A request with neither credential is a 401 too, whatever the id, and so is a cart secret
alone that opens no cart of that id (the same answer for a wrong secret and an unknown cart):
the secret is the credential.
"""

from __future__ import annotations

import hmac
import logging
import re
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from funnel.accounts.access import authenticate, bearer_secret
from funnel.cart import queries, services
from funnel.cart.errors import CartNotFound, CartSecretInvalid
from funnel.cart.models import TOKEN_LENGTH
from funnel.cart.queries import cart_owner
from funnel.core.api import CART_SECRET_HEADER
from funnel.core.errors import AuthenticationRequired
from funnel.core.page_cache import keep_private_with_cookie

log = logging.getLogger(__name__)

CART_COOKIE = "funnel_cart"
CART_COOKIE_MAX_AGE = 30 * 24 * 60 * 60
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_SKIPPED_PATHS = ("/static/", "/media/", "/health", "/metrics", "/webhooks/", "/favicon.ico")


@dataclass
class _CartState:
    """What this request knows about its cart (kept on ``g``, one per request)."""

    cart_id: int | None = None
    is_resolved: bool = False
    cookie_to_set: str | None = None
    is_cookie_dropped: bool = False
    item_count: int | None = None


def init_app(app: Flask) -> None:
    """Register the merge at sign-in, the cookie, and the templates' cart helpers."""
    app.before_request(_start_request)
    app.after_request(_write_cookie)
    app.context_processor(_template_context)
    # The navigation shows the cart's item count: a browser with a cart sees a page of its own.
    keep_private_with_cookie(app, CART_COOKIE)


def _state() -> _CartState:
    state: _CartState | None = g.get("funnel_cart")
    if state is None:
        state = g.funnel_cart = _CartState()
    return state


def _signed_in_user_id() -> int | None:
    if not current_user or not current_user.is_authenticated:
        return None
    return int(current_user.id)


def _cookie_token() -> str | None:
    token = request.cookies.get(CART_COOKIE)
    return token if token is not None and _TOKEN.match(token) else None


def _start_request() -> None:
    """Merge a guest cart into the account's cart when a signed-in request still carries one."""
    g.funnel_cart = state = _CartState()
    if CART_COOKIE not in request.cookies or request.path.startswith(_SKIPPED_PATHS):
        return
    user_id = _signed_in_user_id()
    if user_id is None:
        return
    state.is_cookie_dropped = True
    token = _cookie_token()
    guest_cart_id = queries.guest_cart_id_for_token(token) if token else None
    if guest_cart_id is not None:
        state.cart_id = services.merge_guest_cart(guest_cart_id, user_id)
        state.is_resolved = True


def current_cart_id(create: bool = False) -> int | None:
    """This browser's cart: the account's when signed in, else the guest cart of the cookie.

    Returns None when there is none, unless ``create`` is true (only for requests that put
    something in the cart): then a cart is made, and a guest's cookie set on the response.
    """
    state = _state()
    if state.is_resolved and (state.cart_id is not None or not create):
        if create and state.cart_id is not None and _signed_in_user_id() is None:
            state.cookie_to_set = _cookie_token()
        return state.cart_id
    user_id = _signed_in_user_id()
    if user_id is not None:
        cart_id = queries.cart_id_for_user(user_id)
        if cart_id is None and create:
            cart_id = services.create_cart(user_id).id
    else:
        token = _cookie_token()
        cart_id = queries.guest_cart_id_for_token(token) if token else None
        if cart_id is None and request.cookies.get(CART_COOKIE) is not None:
            state.is_cookie_dropped = True  # a cart deleted by the clean-up job, or a forgery
        if cart_id is None and create:
            cart = services.create_cart()
            cart_id, token = cart.id, cart.token
        if create and cart_id is not None:
            state.cookie_to_set = token  # set, or renewed for another 30 days
    state.cart_id, state.is_resolved = cart_id, True
    state.item_count = None
    return cart_id


def forget_item_count() -> None:
    """The cart changed in this request: the navigation's count is read again if shown."""
    _state().item_count = None


def remember_item_count(count: int) -> None:
    """The page has read the cart already: the navigation shows its count without a query."""
    _state().item_count = count


def _write_cookie(response: Response) -> Response:
    state: _CartState | None = g.get("funnel_cart")
    if state is None:
        return response
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE", False))
    if state.cookie_to_set:
        response.set_cookie(
            CART_COOKIE,
            state.cookie_to_set,
            max_age=CART_COOKIE_MAX_AGE,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=secure,
        )
    elif state.is_cookie_dropped:
        response.delete_cookie(CART_COOKIE, path="/", httponly=True, samesite="Lax", secure=secure)
    return response


def cart_item_count() -> int:
    """Units in this browser's cart, for the navigation: no query without a cookie or account."""
    if not has_request_context():
        return 0
    state = _state()
    if state.item_count is not None:
        return state.item_count
    try:
        count = _read_item_count(state)
    except SQLAlchemyError:
        # An error page rendered after a database failure must still render.
        log.warning("could not read the cart's item count", exc_info=True)
        return 0
    state.item_count = count
    return count


def _read_item_count(state: _CartState) -> int:
    if state.is_resolved:
        count = queries.item_count(cart_id=state.cart_id) if state.cart_id else 0
    else:
        user_id = _signed_in_user_id()
        token = _cookie_token()
        if user_id is not None:
            count = queries.item_count(user_id=user_id)
        elif token is not None:
            count = queries.item_count(token=token)
        else:
            count = 0
    return count


def _template_context() -> dict[str, Any]:
    return {"cart_item_count": cart_item_count}


# -- the API: the cart's secret or its account's token --------------------------------------------


def cart_secret() -> str | None:
    """The request's ``Cart-Secret`` header (None when absent or longer than any secret)."""
    secret = request.headers.get(CART_SECRET_HEADER, "").strip()
    if not secret or len(secret) > TOKEN_LENGTH:
        return None
    return secret


def require_credentials() -> None:
    """Raises AuthenticationRequired (401) when the request carries neither a bearer token
    nor a cart secret."""
    if bearer_secret() is None and not request.headers.get(CART_SECRET_HEADER, "").strip():
        raise AuthenticationRequired(
            f"Send the cart's secret ({CART_SECRET_HEADER} header) or a bearer token."
        )


def accessible_cart_id(cart_id: int) -> int:
    """``cart_id`` if the request may use that cart: its account's bearer token, or (a guest's
    cart) its secret.

    Raises AuthenticationRequired (no credentials), ApiTokenInvalid (a bearer token that is
    not live), CartSecretInvalid (a secret alone, opening no cart of this id): all 401; and
    CartNotFound (404) for a live token that may not use the cart, or a cart that does not
    exist.
    """
    require_credentials()
    user_id = authenticate().id if bearer_secret() is not None else None
    owner = cart_owner(cart_id) if cart_id else None
    if owner is not None and owner.is_guest:
        secret = cart_secret()
        if secret is not None and hmac.compare_digest(secret.encode(), owner.token.encode()):
            return cart_id
    elif owner is not None and user_id is not None and owner.user_id == user_id:
        return cart_id
    if user_id is None:
        raise CartSecretInvalid()
    raise CartNotFound()
