"""The policy of two-factor codes (``accounts.one_time_codes``), against pyotp's own codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp

from funnel.accounts import one_time_codes

NOW = datetime(2026, 3, 1, 9, 0, 10, tzinfo=UTC)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_the_code_of_this_step_and_its_neighbours_match_and_no_other() -> None:
    step = one_time_codes.step_at(NOW)
    totp = pyotp.TOTP(SECRET)

    found = {
        offset: one_time_codes.matching_step(
            SECRET, totp.at(NOW + timedelta(seconds=30 * offset)), NOW, None
        )
        for offset in (-2, -1, 0, 1, 2)
    }

    assert found == {-2: None, -1: step - 1, 0: step, 1: step + 1, 2: None}


def test_a_step_at_or_before_the_last_used_one_never_matches() -> None:
    step = one_time_codes.step_at(NOW)
    code = pyotp.TOTP(SECRET).at(NOW)

    assert one_time_codes.matching_step(SECRET, code, NOW, step - 1) == step
    assert one_time_codes.matching_step(SECRET, code, NOW, step) is None
    assert one_time_codes.matching_step(SECRET, code, NOW, step + 1) is None


def test_typed_codes_lose_spaces_and_hyphens_and_anything_else_is_no_code() -> None:
    assert one_time_codes.normalise(" 123 456 ") == "123456"
    assert one_time_codes.normalise("ABCD-EFGH") == "abcdefgh"
    assert one_time_codes.normalise(None) == ""
    assert not one_time_codes.is_authenticator_code("12345")
    assert not one_time_codes.is_authenticator_code("\uff11" * 6)  # full-width digits
    assert one_time_codes.matching_step(SECRET, "abcdef", NOW, None) is None


def test_recovery_codes_are_ten_distinct_codes_hashed_per_account() -> None:
    codes = one_time_codes.new_recovery_codes()

    assert len(set(codes)) == 10
    assert all(len(code) == 19 and code.count("-") == 3 for code in codes)
    assert all(one_time_codes.is_recovery_code(one_time_codes.normalise(code)) for code in codes)
    assert one_time_codes.hash_recovery_code(1, codes[0]) == one_time_codes.hash_recovery_code(
        1, codes[0].replace("-", "").upper()
    )
    assert one_time_codes.hash_recovery_code(1, codes[0]) != one_time_codes.hash_recovery_code(
        2, codes[0]
    )


def test_the_address_for_the_app_names_the_shop_and_the_account() -> None:
    uri = one_time_codes.provisioning_uri(SECRET, "ann@example.com", "Corner Shop")

    assert uri == (
        f"otpauth://totp/Corner%20Shop:ann%40example.com?secret={SECRET}&issuer=Corner%20Shop"
    )
