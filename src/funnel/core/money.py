"""Exact money: integer minor units plus an ISO 4217 currency code. Never a float."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Currencies whose minor unit is not 1/100 (ISO 4217). Every other code has two decimals.
_EXPONENTS = {
    "BHD": 3,
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "PYG": 0,
    "RWF": 0,
    "TND": 3,
    "UGX": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
}
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
# Plain decimals only: exponents ("1e999999") would overflow or build enormous integers.
_PLAIN_DECIMAL = re.compile(r"^[+-]?[0-9]{1,18}(\.[0-9]{1,6})?$")


class MoneyError(ValueError):
    """Money used in a way that would lose exactness (mixed currencies, bad amount)."""


def exponent(currency: str) -> int:
    """Number of decimal places of ``currency``'s minor unit."""
    return _EXPONENTS.get(currency, 2)


@dataclass(frozen=True, slots=True, order=False)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise MoneyError(f"amount must be an integer of minor units, not {self.amount!r}")
        if not _CURRENCY_CODE.match(self.currency):
            raise MoneyError(f"currency must be a three-letter ISO code, not {self.currency!r}")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """Parse a decimal string in major units ("19.99") into exact minor units."""
        if not isinstance(text, str) or not _PLAIN_DECIMAL.match(text.strip()):
            raise MoneyError(f"{text!r} is not an amount")
        try:
            value = Decimal(text.strip())
        except InvalidOperation as error:
            raise MoneyError(f"{text!r} is not an amount") from error
        minor = value.scaleb(exponent(currency))
        if minor != minor.to_integral_value():
            raise MoneyError(f"{text!r} has more decimals than {currency} allows")
        return cls(int(minor), currency)

    def _same_currency(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other!r}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, quantity: int) -> Money:
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise MoneyError("money is multiplied by whole quantities only")
        return Money(self.amount * quantity, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-exponent(self.currency))

    def format(self) -> str:
        """Human form, e.g. ``$19.99`` or ``1,250 JPY`` style with the currency's decimals."""
        places = exponent(self.currency)
        number = f"{self.to_decimal():,.{places}f}"
        symbol = _SYMBOLS.get(self.currency)
        if symbol:
            return f"-{symbol}{number[1:]}" if number.startswith("-") else f"{symbol}{number}"
        return f"{number} {self.currency}"

    def __str__(self) -> str:
        return self.format()
