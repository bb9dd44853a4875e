"""How a payment names the checkout attempt it pays for, before that attempt has an order.

A checkout's payments are made before its order exists (a declined card must leave no order
behind), so each pays for ``checkout:<checkout id>:<attempt number>`` until the order is
placed and the payment is handed to it (its reference becomes the order's number).
"""

from __future__ import annotations

import re

_ATTEMPT = re.compile(r"^checkout:(\d{1,18}):(\d{1,9})$")


def attempt_reference(checkout_id: int, attempt: int) -> str:
    """What an attempt's payment pays for until its order is placed: ``checkout:<id>:<n>``."""
    return f"checkout:{checkout_id}:{attempt}"


def parse_attempt_reference(reference: str) -> tuple[int, int] | None:
    """``(checkout_id, attempt)`` of an attempt's reference; None for anything else (an order
    number: the attempt's order was placed)."""
    found = _ATTEMPT.match(reference or "")
    return (int(found.group(1)), int(found.group(2))) if found else None
