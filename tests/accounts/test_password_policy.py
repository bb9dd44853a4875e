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


BLANK = "Use at least one character other than spaces."


@pytest.mark.story("US-01")
@pytest.mark.parametrize(
    "password",
    [
        " " * 8,
        " " * 128,
        "\t\n\r\x0b\x0c \t\n",
        "\u00a0" * 8,  # no-break space
        "\u3000" * 8,  # ideographic space
        "\u2003\u2009\u202f\u205f\u2028\u2029\u1680\u2007",  # other Unicode spaces
        "\u200b" * 8,  # zero-width space (a format character: nothing to see either)
        "\u200b\u200c\u200d\ufeff    ",
    ],
    ids=["8-spaces", "128-spaces", "ascii-whitespace", "nbsp", "ideographic", "unicode-spaces",
         "zero-width", "mixed-invisible"],
)  # fmt: skip
def test_a_password_of_spaces_alone_is_refused(password: str) -> None:
    with pytest.raises(PasswordRejected) as error:
        passwords.check_password_policy(password)

    assert error.value.fields == {"password": [BLANK]}


@pytest.mark.story("US-01")
@pytest.mark.parametrize(
    "password",
    ["       x", "x       ", "  a b c ", "\u3000\u3000\u3000\u3000\u3000\u3000\u3000漢"],
    ids=["leading", "trailing", "scattered", "ideographic-and-one-character"],
)
def test_spaces_count_toward_the_length_and_are_never_trimmed(password: str) -> None:
    passwords.check_password_policy(password)  # 8 characters, one of them visible: accepted

    password_hash = passwords.hash_password(password)
    assert passwords.verify_password(password_hash, password)
    assert not passwords.verify_password(password_hash, password.strip())


def test_the_length_rule_comes_before_the_spaces_rule() -> None:
    with pytest.raises(PasswordRejected) as error:
        passwords.check_password_policy("   ")

    assert error.value.fields == {"password": ["Use between 8 and 128 characters."]}


def test_a_malformed_hash_is_a_mismatch_not_an_error() -> None:
    assert passwords.verify_password("not-a-hash", "whatever password") is False
    assert passwords.needs_rehash("not-a-hash") is True
