"""Rate limits on checkout over the API: per client address and per credential; and who
a checkout's stock reservations count against.

Placing orders and paying is what a card-testing bot hammers; the pay form has its own limit.
The credential is the bearer token or the guest cart's secret (hashed), so one token cannot
go past its limit by switching addresses, nor many clients behind one address starve it.

Starting a checkout reserves stock. One client may hold at most ``RESERVATION_MAX_SHARE`` of a
variant's stock, counted per client *address*: a cookie, a visitor header, a cart or a token
costs a script nothing to renew, an address does. Attempts to reserve are limited per address
too (shared by the checkout page and the API), so that a script cannot churn holds either.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import current_app, request
from flask_limiter.util import get_remote_address

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


def checkout_limits(function: Any) -> Any:
    """Both checkout limits, shared by every checkout operation of the API."""
    per_client = limiter.shared_limit(CHECKOUT_PER_CLIENT, scope="api-checkout-client")
    per_credential = limiter.shared_limit(
        CHECKOUT_PER_CREDENTIAL, scope="api-checkout-credential", key_func=credential_key
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
