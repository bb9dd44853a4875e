"""Card input checks: Luhn, brand, expiry, CVC; messages never repeat the number."""

from __future__ import annotations

from datetime import date

import pytest

from funnel.payments.errors import InvalidCard
from funnel.payments.gateways.base import CardDetails
from funnel.payments.gateways.cards import check_card, detect_brand, luhn_valid

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242 4242 4242 4242", "visa"),
        ("5555-5555-5555-4444", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("378282246310005", "amex"),
        ("6011111111111117", "discover"),
        ("3566002020360505", "jcb"),
        ("36227206271667", "diners"),
        ("6200000000000005", "unionpay"),
    ],
)
def test_a_valid_number_is_accepted_with_its_brand(number: str, brand: str) -> None:
    checked = check_card(number, "12/30", "123", TODAY)

    assert (checked.brand, checked.last4) == (brand, number.replace(" ", "").replace("-", "")[-4:])
    assert number.replace(" ", "") not in repr(checked)


def test_an_unknown_prefix_is_brand_unknown() -> None:
    assert detect_brand("9999999999999995") == "unknown"
    assert luhn_valid("9999999999999995") is True


@pytest.mark.parametrize(
    ("number", "expiry", "cvc", "fields"),
    [
        ("4242 4242 4242 4241", "12/30", "123", {"card_number"}),
        ("", "12/30", "123", {"card_number"}),
        ("4242 abcd 4242 4242", "12/30", "123", {"card_number"}),
        ("42424242424", "12/30", "123", {"card_number"}),
        ("4242424242424242", "10/26", "123", {"card_expiry"}),
        ("4242424242424242", "13/30", "123", {"card_expiry"}),
        ("4242424242424242", "1230", "123", {"card_expiry"}),
        ("4242424242424242", "12/30", "12", {"card_cvc"}),
        ("4242424242424242", "12/30", "12345", {"card_cvc"}),
        ("4242424242424242", "12/30", "١٢٣", {"card_cvc"}),
        ("1234", "00/00", "x", {"card_number", "card_expiry", "card_cvc"}),
    ],
)
def test_bad_card_input_names_each_bad_field(
    number: str, expiry: str, cvc: str, fields: set[str]
) -> None:
    with pytest.raises(InvalidCard) as raised:
        check_card(number, expiry, cvc, TODAY)

    assert set(raised.value.fields) == fields
    assert raised.value.code == "invalid_card"
    digits = number.replace(" ", "")
    if len(digits) > 4:
        assert digits not in str(raised.value.fields)


def test_this_month_is_still_valid_and_four_digit_years_are_read() -> None:
    assert check_card("4242424242424242", "11/2026", "1234", TODAY).expiry_year == 2026


def test_card_details_never_show_their_digits() -> None:
    details = CardDetails("4242424242424242", "12/30", "123")

    assert repr(details) == str(details) == f"{details}" == "CardDetails(<redacted>)"
