"""Signed links to an order page for guests: ``/orders/<number>?key=<token>``.

The key is the order number signed with ``SECRET_KEY`` (itsdangerous, salt ``order-access``):
whoever holds the link (it is in the guest's emails) may see that one order, and nobody can
make a key for another number. Rotating ``SECRET_KEY`` invalidates every link.
"""

from __future__ import annotations

import hmac

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "order-access"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def access_key(number: str) -> str:
    """The key that opens order ``number``'s guest page."""
    return str(_serializer().dumps(number))


def key_opens(key: str | None, number: str) -> bool:
    """Whether ``key`` is a valid key for order ``number`` (False for anything malformed)."""
    if not key or len(key) > 200:
        return False
    try:
        signed_number = _serializer().loads(key)
    except BadSignature:
        return False
    return isinstance(signed_number, str) and hmac.compare_digest(signed_number, number)
