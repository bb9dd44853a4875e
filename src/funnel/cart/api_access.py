"""Who may reach a cart over the JSON API (the carts API and the checkout API share it).

A guest's cart (no account) is reached with its secret in the ``Cart-Secret`` header, compared
in constant time; an account's cart only with that account's bearer token. Anything else is the
cart domain's 404, exactly as for a cart that does not exist, so that cart ids cannot be probed.
A bearer token that is sent must be live: an unknown, expired or revoked one is a 401 even when
the cart secret alone would have opened the cart. A request with neither credential is a 401
too, whatever the id, and so is a cart secret alone that opens no cart of that id (the same
answer for a wrong secret and an unknown cart): the secret is the credential.
"""

from __future__ import annotations

import hmac

from flask import request

from funnel.accounts.api_auth import authenticate, bearer_secret
from funnel.cart.errors import CartNotFound, CartSecretInvalid
from funnel.cart.models import TOKEN_LENGTH
from funnel.cart.queries import cart_owner
from funnel.core.api import CART_SECRET_HEADER
from funnel.core.errors import AuthenticationRequired


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
