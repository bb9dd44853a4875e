"""Card number checks (Luhn, brand, expiry, CVC), for gateways that receive card details.

Error messages name the field, never its value: a card number must not reach a log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from funnel.payments.errors import InvalidCard

_EXPIRY = re.compile(r"^(\d{1,2})\s*/\s*(\d{2}|\d{4})$")
_BRANDS: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = (
    ("amex", ((34, 34), (37, 37))),
    ("diners", ((300, 305), (36, 36), (38, 39))),
    ("discover", ((6011, 6011), (644, 649), (65, 65))),
    ("jcb", ((3528, 3589),)),
    ("mastercard", ((51, 55), (2221, 2720))),
    ("unionpay", ((62, 62),)),
    ("visa", ((4, 4),)),
)


@dataclass(frozen=True)
class CheckedCard:
    """What may be kept of a card: its brand and last four digits (plus the digits, in memory)."""

    digits: str
    brand: str
    last4: str
    expiry_month: int
    expiry_year: int

    def __repr__(self) -> str:
        return f"CheckedCard(brand={self.brand!r}, last4={self.last4!r})"


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def detect_brand(digits: str) -> str:
    for brand, ranges in _BRANDS:
        for low, high in ranges:
            width = len(str(low))
            if len(digits) >= width and low <= int(digits[:width]) <= high:
                return brand
    return "unknown"


def check_card(number: str, expiry: str, cvc: str, today: date) -> CheckedCard:
    """Validate card input; spaces and dashes in the number are allowed.

    Raises InvalidCard with one message per bad field (card_number, card_expiry, card_cvc).
    """
    errors: dict[str, list[str]] = {}
    digits = re.sub(r"[\s-]", "", number or "")
    if not digits:
        errors["card_number"] = ["Enter the card number."]
    elif not digits.isascii() or not digits.isdigit() or not 12 <= len(digits) <= 19:
        errors["card_number"] = ["The card number must have 12 to 19 digits."]
    elif not luhn_valid(digits):
        errors["card_number"] = ["The card number is not valid. Please check it."]

    month = year = 0
    match = _EXPIRY.match((expiry or "").strip())
    if not match:
        errors["card_expiry"] = ["Enter the expiry date as MM/YY."]
    else:
        month = int(match.group(1))
        year = int(match.group(2))
        year = year + 2000 if year < 100 else year
        if not 1 <= month <= 12:
            errors["card_expiry"] = ["The expiry month must be between 01 and 12."]
        elif (year, month) < (today.year, today.month):
            errors["card_expiry"] = ["The card has expired."]
        elif year > today.year + 20:
            errors["card_expiry"] = ["The expiry date is too far in the future."]

    cvc = (cvc or "").strip()
    if not (cvc.isascii() and cvc.isdigit() and 3 <= len(cvc) <= 4):
        errors["card_cvc"] = ["The security code has 3 or 4 digits."]

    if errors:
        raise InvalidCard(fields=errors)
    return CheckedCard(digits, detect_brand(digits), digits[-4:], month, year)
