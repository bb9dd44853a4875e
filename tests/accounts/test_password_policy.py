"""US-01: the password rules themselves (pure functions: no database)."""

from __future__ import annotations

import gzip
from importlib import resources

import pytest

from funnel.accounts import passwords
from funnel.accounts.errors import PasswordRejected


def test_the_shipped_list_holds_the_top_10000_common_passwords() -> None:
    data = resources.files("funnel.accounts").joinpath("common-passwords.txt.gz").read_bytes()
    lines = gzip.decompress(data).decode("utf-8").splitlines()

    assert len(lines) == 10_000
    assert lines[:4] == ["123456", "123456789", "qwerty", "password"]


@pytest.mark.story("US-01")
def test_length_is_counted_in_characters_not_bytes() -> None:
    four_byte_characters = "🦊" * 8  # 32 bytes in UTF-8

    passwords.check_password_policy(four_byte_characters)
    passwords.check_password_policy("é" * 128)  # 256 bytes, 128 characters
    with pytest.raises(PasswordRejected):
        passwords.check_password_policy("é" * 129)


def test_composed_and_decomposed_accents_are_the_same_password() -> None:
    composed = "caf\u00e9 au lait"
    decomposed = "cafe\u0301 au lait"

    password_hash = passwords.hash_password(composed)

    assert passwords.verify_password(password_hash, decomposed)


@pytest.mark.parametrize("password", ["", "1234567", "x" * 129])
def test_lengths_outside_the_limits_state_the_limits(password: str) -> None:
    with pytest.raises(PasswordRejected) as error:
        passwords.check_password_policy(password)

    assert error.value.fields == {"password": ["Use between 8 and 128 characters."]}


def test_a_malformed_hash_is_a_mismatch_not_an_error() -> None:
    assert passwords.verify_password("not-a-hash", "whatever password") is False
    assert passwords.needs_rehash("not-a-hash") is True
