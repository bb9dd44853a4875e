"""Order numbers: ``FN-`` and 8 random Crockford base32 characters, e.g. ``FN-7K3QX9MD``.

Random rather than sequential, so that a number tells nothing about how many orders the shop
takes and cannot be guessed from another one (32**8, about 10**12 numbers). Crockford's
alphabet has no I, L, O or U: read aloud or typed from a receipt, a number survives, and
``normalise_number`` maps the look-alikes back.
"""

from __future__ import annotations

import re
import secrets

PREFIX = "FN-"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 8
NUMBER_PATTERN = re.compile(rf"^{PREFIX}[{ALPHABET}]{{{RANDOM_LENGTH}}}$")
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_number() -> str:
    """A fresh random order number (uniqueness is the caller's to check: the column is unique)."""
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))


def normalise_number(text: str) -> str | None:
    """The canonical form of a number typed by someone, or None when it cannot be one.

    Case, surrounding spaces, a missing ``FN-`` and look-alike letters are forgiven.
    """
    if not isinstance(text, str):
        return None
    candidate = text.strip().upper().replace(" ", "")
    if len(candidate) > len(PREFIX) + RANDOM_LENGTH + 2:
        return None
    if candidate.startswith(PREFIX):
        candidate = candidate[len(PREFIX) :]
    elif candidate.startswith("FN"):
        candidate = candidate[2:]
    number = PREFIX + candidate.translate(_LOOK_ALIKES)
    return number if NUMBER_PATTERN.match(number) else None
