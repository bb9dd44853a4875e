"""Rate limits on checkout over the API: per client address and per credential; and who
a checkout's stock reservations count against.

Placing orders and paying is what a card-testing bot hammers; the pay form has its own limit.
The credential is the bearer token or the guest cart's secret (hashed), so one token cannot
go past its limit by switching addresses, nor many clients behind one address starve it.

Starting a checkout reserves stock. One client may hold at most ``RESERVATION_MAX_SHARE`` of a
variant's stock, counted per client *address*: a cookie, a visitor header, a cart or a token
costs a script nothing to renew, an address does. Attempts to reserve are limited per address
too (shared by the checkout page and the API), so that a script cannot churn holds either.

A request whose bearer token is not live is answered 401 by every checkout operation whatever
else it carries, so it is not counted: it reaches nothing, and its answer stays the 401 it
documents even for a client past its budget.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import current_app, request
from flask_limiter.util import get_remote_address

from funnel.accounts.access import bearer_secret, bearer_user
from funnel.core.api import CART_SECRET_HEADER
from funnel.extensions import limiter

CHECKOUT_PER_CLIENT = "60/minute"
CHECKOUT_PER_CREDENTIAL = "20/minute"
RESERVATIONS_PER_CLIENT = "30/minute"


def credential_key() -> str:
    """The caller's credential (bearer token, else cart secret, else its address), hashed."""
    credential = request.headers.get("Authorization") or request.headers.get(CART_SECRET_HEADER)
    if not credential:
        return "address:" + (get_remote_address() or "")
    return "credential:" + hashlib.sha256(credential.encode()).hexdigest()


def carries_dead_token() -> bool:
    """Whether the request's bearer token is unknown, expired or revoked (a certain 401)."""
    return bearer_secret() is not None and bearer_user() is None


def checkout_limits(function: Any) -> Any:
    """Both checkout limits, shared by every checkout operation of the API."""
    per_client = limiter.shared_limit(
        CHECKOUT_PER_CLIENT, scope="api-checkout-client", exempt_when=carries_dead_token
    )
    per_credential = limiter.shared_limit(
        CHECKOUT_PER_CREDENTIAL,
        scope="api-checkout-credential",
        key_func=credential_key,
        exempt_when=carries_dead_token,
    )
    return per_client(per_credential(function))


def reservation_owner() -> str:
    """The client whose share of the stock this request's reservations count against: its
    address, keyed with the secret key (the database keeps no address)."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    address = (get_remote_address() or "").encode()
    return "address:" + hmac.new(secret, address, hashlib.sha256).hexdigest()[:48]


def reservation_limit(function: Any) -> Any:
    """Starting (or going on with) a checkout reserves stock: limited per client address,
    one count shared by the checkout page and ``POST /checkouts``."""
    return limiter.shared_limit(
        RESERVATIONS_PER_CLIENT, scope="stock-reservations", methods=["POST"]
    )(function)


def api_reservation_limit(function: Any) -> Any:
    """``reservation_limit`` for the API, where a dead bearer token is a certain 401 (the
    checkout page reads no bearer token: there a header must exempt nothing)."""
    return limiter.shared_limit(
        RESERVATIONS_PER_CLIENT,
        scope="stock-reservations",
        methods=["POST"],
        exempt_when=carries_dead_token,
    )(function)
