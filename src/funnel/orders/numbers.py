"""Order numbers: a prefix (``FN-`` unless staff chose another in the shop's settings) and 8
random Crockford base32 characters, e.g. ``FN-7K3QX9MD``.

Random rather than sequential, so that a number tells nothing about how many orders the shop
takes and cannot be guessed from another one (32**8, about 10**12 numbers). Crockford's
alphabet has no I, L, O or U: read aloud or typed from a receipt, a number survives, and
``normalise_number`` maps the look-alikes back. A number keeps the prefix it was given: orders
placed before the prefix changed are still found under their own.
"""

from __future__ import annotations

import re
import secrets

from funnel.settings.values import DEFAULT_ORDER_NUMBER_PREFIX

PREFIX = DEFAULT_ORDER_NUMBER_PREFIX
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 8
MAX_PREFIX_LENGTH = 7  # 6 letters or digits and a dash (the settings' rule)
_PREFIX_PATTERN = re.compile(r"^[A-Z0-9]{1,6}-?$")
_RANDOM_PATTERN = re.compile(rf"^[{ALPHABET}]{{{RANDOM_LENGTH}}}$")
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_number(prefix: str = PREFIX) -> str:
    """A fresh random order number (uniqueness is the caller's to check: the column is unique)."""
    return prefix + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))


def normalise_number(text: str, prefix: str = PREFIX) -> str | None:
    """The canonical form of a number typed by someone, or None when it cannot be one.

    Case, spaces, look-alike letters, and a missing ``prefix`` (the shop's current one) or its
    missing dash are forgiven; a number under another prefix (an older one) is kept as typed.
    """
    if not isinstance(text, str):
        return None
    candidate = text.strip().upper().replace(" ", "")
    if len(candidate) > MAX_PREFIX_LENGTH + RANDOM_LENGTH + 2:
        return None
    head = candidate[:-RANDOM_LENGTH]
    random_part = candidate[-RANDOM_LENGTH:].translate(_LOOK_ALIKES)
    if head in ("", prefix, prefix.rstrip("-")):
        head = prefix
    elif not _PREFIX_PATTERN.match(head):
        return None
    return head + random_part if _RANDOM_PATTERN.match(random_part) else None
