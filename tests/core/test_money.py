"""Money: integer minor units plus an ISO currency code, never a float."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from funnel.core.money import Money, MoneyError, exponent


@pytest.mark.parametrize(
    ("text", "currency", "amount"),
    [
        ("19.99", "USD", 1999),
        ("19.9", "USD", 1990),
        ("19", "USD", 1900),
        ("0.01", "USD", 1),
        (" 5.00 ", "EUR", 500),
        ("-3.50", "GBP", -350),
        ("1250", "JPY", 1250),
        ("1.234", "BHD", 1234),
        ("1250.00", "JPY", 1250),  # trailing zeros are not extra precision
    ],
)
def test_parse_is_exact(text: str, currency: str, amount: int) -> None:
    assert Money.parse(text, currency) == Money(amount, currency)


def test_parse_of_the_classic_float_trap_is_exact() -> None:
    # given an amount a binary float cannot hold (0.1 + 0.2 != 0.3) / when summed as Money
    total = Money.parse("0.10", "USD") + Money.parse("0.20", "USD")

    # then
    assert total == Money.parse("0.30", "USD")
    assert total.amount == 30


@pytest.mark.parametrize(
    ("text", "currency"),
    [("1.999", "USD"), ("0.001", "EUR"), ("12.5", "JPY"), ("1.2345", "BHD")],
)
def test_parse_refuses_more_decimals_than_the_currency_has(text: str, currency: str) -> None:
    with pytest.raises(MoneyError, match=f"has more decimals than {currency} allows"):
        Money.parse(text, currency)


@pytest.mark.parametrize("text", ["", "abc", "1,000", "NaN", "Infinity", "-inf", "12.3.4"])
def test_parse_refuses_what_is_not_an_amount(text: str) -> None:
    with pytest.raises(MoneyError, match="is not an amount"):
        Money.parse(text, "USD")


def test_parse_refuses_a_float() -> None:
    with pytest.raises(MoneyError, match=r"^19\.99 is not an amount$"):
        Money.parse(19.99, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["1e3", "1E-2", "1e999999", "1e100000"])
def test_parse_refuses_exponent_notation(text: str) -> None:
    """Only plain decimals parse. Exponents once did: "1e999999" escaped as decimal.Overflow (a
    500, not a MoneyError) and "1e999990" built a million-digit int (about 30 s of CPU)."""
    with pytest.raises(MoneyError):
        Money.parse(text, "USD")


@pytest.mark.parametrize("amount", [19.99, 20.0, Decimal("19.99"), "1999", True, None])
def test_amount_must_be_an_integer_of_minor_units(amount: object) -> None:
    with pytest.raises(MoneyError, match="amount must be an integer of minor units"):
        Money(amount, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["usd", "US", "USDX", "", "12A"])
def test_currency_must_be_a_three_letter_code(currency: str) -> None:
    with pytest.raises(MoneyError, match="currency must be a three-letter ISO code"):
        Money(100, currency)


def test_exponents_follow_iso_4217() -> None:
    assert (exponent("USD"), exponent("EUR"), exponent("JPY"), exponent("BHD")) == (2, 2, 0, 3)


def test_arithmetic_in_one_currency() -> None:
    # given
    price = Money(1999, "USD")

    # when / then
    assert price + Money(1, "USD") == Money(2000, "USD")
    assert price - Money(2000, "USD") == Money(-1, "USD")
    assert price * 3 == Money(5997, "USD")
    assert 3 * price == Money(5997, "USD")
    assert Money.zero("USD") == Money(0, "USD")


def test_comparison_in_one_currency() -> None:
    small, large = Money(100, "EUR"), Money(200, "EUR")

    assert (small < large, small <= small, large > small, large >= large) == (
        True,
        True,
        True,
        True,
    )
    assert (large < small, large <= small) == (False, False)


def test_money_of_different_currencies_is_not_equal() -> None:
    assert Money(100, "USD") != Money(100, "EUR")


@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
    ids=["add", "subtract", "lt", "le", "gt", "ge"],
)
def test_mixed_currencies_raise(combine: object) -> None:
    with pytest.raises(MoneyError, match="cannot combine"):
        combine(Money(100, "USD"), Money(100, "EUR"))  # type: ignore[operator]


def test_adding_a_plain_number_raises() -> None:
    with pytest.raises(MoneyError, match="cannot combine USD with 1"):
        Money(100, "USD") + 1  # type: ignore[operator]


@pytest.mark.parametrize("quantity", [1.5, True, Decimal(2)])
def test_multiplying_by_a_fraction_or_a_bool_raises(quantity: object) -> None:
    with pytest.raises(MoneyError, match="money is multiplied by whole quantities only"):
        Money(100, "USD") * quantity  # type: ignore[operator]


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(1999, "USD"), "$19.99"),
        (Money(5, "USD"), "$0.05"),
        (Money(-1999, "USD"), "-$19.99"),
        (Money(123456789, "EUR"), "€1,234,567.89"),
        (Money(100, "GBP"), "£1.00"),
        (Money(125000, "JPY"), "¥125,000"),
        (Money(1234, "CHF"), "12.34 CHF"),
        (Money(1234, "BHD"), "1.234 BHD"),
        (Money(0, "USD"), "$0.00"),
    ],
)
def test_format(money: Money, text: str) -> None:
    assert money.format() == text
    assert str(money) == text


def test_to_decimal_is_exact() -> None:
    assert Money(1999, "USD").to_decimal() == Decimal("19.99")
    assert Money(1250, "JPY").to_decimal() == Decimal(1250)


@given(
    amount=st.integers(min_value=-(10**15), max_value=10**15),
    currency=st.sampled_from(["USD", "EUR", "JPY", "BHD", "CHF"]),
)
def test_parse_of_the_decimal_form_round_trips(amount: int, currency: str) -> None:
    # given any amount / when written as a decimal and parsed back / then nothing is lost
    money = Money(amount, currency)

    assert Money.parse(str(money.to_decimal()), currency) == money


@given(
    amount=st.integers(min_value=-(10**12), max_value=10**12),
    currency=st.sampled_from(["USD", "JPY", "BHD"]),
)
def test_the_formatted_number_is_the_decimal_form_with_grouping(amount: int, currency: str) -> None:
    # given the format's digits without symbol, sign, grouping and currency code
    text = Money(amount, currency).format()
    digits = text.replace(",", "").replace(currency, "").strip().lstrip("-").lstrip("$¥")

    # then they parse back to the absolute amount
    assert Money.parse(digits, currency) == Money(abs(amount), currency)
