"""The codes of two-factor sign-in: an authenticator's (TOTP, RFC 6238) and recovery codes.

Plain functions of their inputs, over pyotp. An authenticator code is 6 digits for a 30-second
time step of the account's shared secret (160 random bits, base32, as every authenticator app
takes it); the step before and the step after are accepted too, for a phone's clock that is a
few seconds off, but never a step at or before the last one used (no replay). A recovery code is
16 random base32 characters (80 bits), shown in groups of four; it is stored as the SHA-256 of
the account id and the code: with 80 bits there is nothing to brute-force, so no slow hash is
needed (the same reasoning as session tokens), and the id keeps equal codes of two accounts apart.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp

STEP_SECONDS = 30
DIGITS = 6
# Steps either side of the current one that are still accepted (a clock a little off).
TOLERANCE_STEPS = 1
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 16
RECOVERY_GROUP = 4
_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_AUTHENTICATOR_CODE = re.compile(rf"^[0-9]{{{DIGITS}}}$")
# What a person may type between the characters of a code.
_SEPARATORS = re.compile(r"[\s\-]+")
# Longer input is no code; refusing it first bounds the work per attempt.
MAX_INPUT_LENGTH = 64


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def grouped_secret(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def normalise(code: str | None) -> str:
    """A typed code without spaces and hyphens, in lower case ("" for nothing usable)."""
    text = (code or "")[:MAX_INPUT_LENGTH]
    return _SEPARATORS.sub("", text).lower()


def is_authenticator_code(normalised: str) -> bool:
    return bool(_AUTHENTICATOR_CODE.match(normalised))


def step_at(moment: datetime) -> int:
    """The time step ``moment`` falls in (Unix time in 30-second steps, as every app counts)."""
    return int(moment.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    """The code an app shows for ``step`` (tests and the first step use it)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def matching_step(secret: str, code: str, moment: datetime, last_used: int | None) -> int | None:
    """The time step whose code ``code`` is, near ``moment`` and after ``last_used``; None when
    it is no such code (wrong, too old, or already used)."""
    if not is_authenticator_code(code):
        return None
    current = step_at(moment)
    found = None
    for step in range(current - TOLERANCE_STEPS, current + TOLERANCE_STEPS + 1):
        if last_used is not None and step <= last_used:
            continue
        # Every candidate is compared (in constant time), so timing tells nothing of which.
        if hmac.compare_digest(code_at(secret, step), code):
            found = step
    return found


def new_recovery_codes() -> list[str]:
    """Fresh recovery codes, as shown to the person (groups of four)."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        codes.append(
            "-".join(
                raw[index : index + RECOVERY_GROUP]
                for index in range(0, RECOVERY_CODE_LENGTH, RECOVERY_GROUP)
            )
        )
    return codes


def is_recovery_code(normalised: str) -> bool:
    return len(normalised) == RECOVERY_CODE_LENGTH and all(
        character in _RECOVERY_ALPHABET for character in normalised
    )


def hash_recovery_code(user_id: int, code: str) -> str:
    """What is stored for a recovery code of ``user_id`` (typed in any case, with or without
    its hyphens)."""
    return hashlib.sha256(f"{user_id}:{normalise(code)}".encode()).hexdigest()
