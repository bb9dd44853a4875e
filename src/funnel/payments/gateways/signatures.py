"""Webhook signatures, Stripe style: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">``.

The signature covers the raw body exactly as received (never a re-serialised JSON), and the
timestamp bounds replays of a captured request to ``TOLERANCE_SECONDS`` either way. Several
``v1`` entries may be present (secret rotation); one match is enough. Comparisons run in
constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from funnel.core import clock
from funnel.payments.errors import WebhookSignatureInvalid

TOLERANCE_SECONDS = 300
MAX_HEADER_LENGTH = 4096


def compute_signature(raw_body: bytes, secret: str, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    signed = str(timestamp).encode("ascii") + b"." + raw_body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def signature_header(raw_body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The header value a sender puts on ``raw_body`` (now, unless ``timestamp`` is given)."""
    if timestamp is None:
        timestamp = int(clock.utcnow().timestamp())
    return f"t={timestamp},v1={compute_signature(raw_body, secret, timestamp)}"


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, case-insensitively, from Werkzeug headers or a plain dict."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, candidate in headers.items():
            if key.lower() == lowered:
                return candidate
    return value


def verify_signature(
    raw_body: bytes,
    header: str | None,
    secret: str,
    tolerance: int = TOLERANCE_SECONDS,
) -> int:
    """Check ``header`` against ``raw_body``; return the signed timestamp.

    Raises WebhookSignatureInvalid when the header is missing or malformed, the timestamp is
    more than ``tolerance`` seconds from now, or no ``v1`` signature matches.
    """
    if not header or len(header) > MAX_HEADER_LENGTH:
        raise WebhookSignatureInvalid("The signature header is missing.")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookSignatureInvalid("The signature header is malformed.")
    now = int(clock.utcnow().timestamp())
    if abs(now - timestamp) > tolerance:
        raise WebhookSignatureInvalid("The signature timestamp is outside the tolerance.")
    expected = compute_signature(raw_body, secret, timestamp)
    matched = False
    for candidate in signatures:
        # Check all of them, so that the time taken does not tell which one matched.
        matched |= hmac.compare_digest(expected.encode(), candidate.encode("utf-8"))
    if not matched:
        raise WebhookSignatureInvalid("The signature does not match the body.")
    return timestamp
