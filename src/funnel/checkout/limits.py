"""Rate limits on checkout over the API: per client address and per credential.

Placing orders and paying is what a card-testing bot hammers; the pay form has its own limit.
The credential is the bearer token or the guest cart's secret (hashed), so one token cannot
go past its limit by switching addresses, nor many clients behind one address starve it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import request
from flask_limiter.util import get_remote_address

from funnel.core.api import CART_SECRET_HEADER
from funnel.extensions import limiter

CHECKOUT_PER_CLIENT = "60/minute"
CHECKOUT_PER_CREDENTIAL = "20/minute"


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
