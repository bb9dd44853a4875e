"""Password policy and hashing (Argon2id through argon2-cffi).

The policy follows current guidance (NIST SP 800-63B, OWASP ASVS 5.0 chapter 6): 8 to 128
characters of any kind, counted as Unicode code points after NFKC normalisation (so that "é"
typed as one or two code points is the same password) and never trimmed, at least one of them
something other than a space, and not one of the 10,000 most common passwords (see
COMMON-PASSWORDS.md). No composition rules (a digit, a capital...): they make passwords no
harder to guess, only harder to remember. The same rule serves registration, password change
and password reset, on the pages and in the API.
"""

from __future__ import annotations

import gzip
import unicodedata
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from funnel.accounts.errors import PasswordRejected

MIN_LENGTH = 8
MAX_LENGTH = 128
LENGTH_MESSAGE = f"Use between {MIN_LENGTH} and {MAX_LENGTH} characters."
COMMON_MESSAGE = "This password is too common. Choose one that is harder to guess."
BLANK_MESSAGE = "Use at least one character other than spaces."
# Spaces of every kind, line and paragraph separators, control and invisible format characters
# (zero-width space, joiners, byte order mark): a password made only of them shows nothing.
_BLANK_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})

# argon2-cffi's defaults are Argon2id with RFC 9106's low-memory profile (t=3, m=64 MiB, p=4).
_hasher = PasswordHasher()


def normalise_password(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


@cache
def _common_passwords() -> frozenset[str]:
    data = resources.files("funnel.accounts").joinpath("common-passwords.txt.gz").read_bytes()
    lines = gzip.decompress(data).decode("utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip())


def is_common_password(password: str) -> bool:
    """Whether ``password`` is on the shipped list, compared case-insensitively."""
    return normalise_password(password).lower() in _common_passwords()


def check_password_policy(password: str) -> None:
    """Raise PasswordRejected, with a message a person can act on, if ``password`` breaks a rule."""
    normalised = normalise_password(password or "")
    if len(normalised) < MIN_LENGTH or len(normalised) > MAX_LENGTH:
        raise PasswordRejected(LENGTH_MESSAGE)
    if all(_is_blank(character) for character in normalised):
        raise PasswordRejected(BLANK_MESSAGE)
    if is_common_password(password):
        raise PasswordRejected(COMMON_MESSAGE)


def _is_blank(character: str) -> bool:
    return character.isspace() or unicodedata.category(character) in _BLANK_CATEGORIES


def hash_password(password: str) -> str:
    return _hasher.hash(normalise_password(password))


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; a malformed hash is a mismatch."""
    try:
        return _hasher.verify(password_hash, normalise_password(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's (rehash at sign-in)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def _dummy_hash() -> str:
    return _hasher.hash("funnel dummy password for timing")


def spend_verification_time() -> None:
    """Verify against a dummy hash, so that an unknown email costs as long as a wrong password."""
    verify_password(_dummy_hash(), "not the dummy password")
