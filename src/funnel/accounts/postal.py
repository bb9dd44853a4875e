"""A postal address and its rules, written once for the address book, the checkout and orders.

A ``PostalAddress`` is checked when it is made: every value is trimmed, the country code is
upper-cased, and a value that breaks a rule raises ``AddressInvalid`` whose ``fields`` maps
each wrong field to one message (all of them at once). So an address that exists is valid,
and a service that takes one has nothing left to check.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, fields

from funnel.accounts.countries import is_country_code
from funnel.accounts.errors import AddressInvalid

# The longest value of each field (the columns of addresses, checkouts and orders hold them).
MAX_LENGTHS: dict[str, int] = {
    "full_name": 200,
    "company": 200,
    "line1": 200,
    "line2": 200,
    "city": 100,
    "region": 100,
    "postal_code": 20,
    "country_code": 2,
    "phone": 32,
}
REQUIRED_MESSAGES: dict[str, str] = {
    "full_name": "Enter the full name.",
    "line1": "Enter the first address line.",
    "city": "Enter the city.",
    "postal_code": "Enter the postal code.",
    "country_code": "Choose a country.",
}
UNKNOWN_COUNTRY = "Choose a country from the list."
BAD_PHONE = "Enter a phone number: digits, spaces and + ( ) - . only."
CONTROL_CHARACTERS = "Remove the control characters from this field."
NOT_TEXT = "Enter text."
_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{3,31}$")
_CONTROL_CATEGORIES = frozenset({"Cc", "Cs"})


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """Where a parcel goes. Optional fields (company, line2, region, phone) are ``""`` when
    not given. Making one checks it (see the module); ``parse`` reads one from loose input."""

    full_name: str
    line1: str
    city: str
    postal_code: str
    country_code: str
    company: str = ""
    line2: str = ""
    region: str = ""
    phone: str = ""

    def __post_init__(self) -> None:
        for name, value in checked_values({name: getattr(self, name) for name in FIELDS}).items():
            object.__setattr__(self, name, value)

    def columns(self, prefix: str = "") -> dict[str, str | None]:
        """The values as database columns (``prefix`` + field name): ``None`` for an empty
        optional field."""
        return {f"{prefix}{name}": getattr(self, name) or None for name in FIELDS}


FIELDS: tuple[str, ...] = tuple(field.name for field in fields(PostalAddress))


def parse(values: Mapping[str, object], prefix: str = "") -> PostalAddress:
    """The address in ``values`` (a form's data, a JSON body, a row's columns named
    ``prefix`` + field name). A missing or ``None`` value counts as empty; other keys are
    ignored. Raises AddressInvalid (every wrong field at once)."""
    return PostalAddress(**{name: values.get(f"{prefix}{name}") for name in FIELDS})  # type: ignore[arg-type]


def read(source: object, prefix: str = "") -> PostalAddress:
    """The address held by ``source``'s attributes (``prefix`` + field name), e.g. a
    checkout's ``ship_*`` columns. Raises AddressInvalid."""
    return parse({name: getattr(source, f"{prefix}{name}", None) for name in FIELDS})


def checked_values(values: Mapping[str, object]) -> dict[str, str]:
    """Each field's value trimmed (the country upper-cased), or AddressInvalid naming every
    field that breaks a rule, with one message each."""
    cleaned: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for name in FIELDS:
        raw = values.get(name)
        if raw is not None and not isinstance(raw, str):
            errors[name] = [NOT_TEXT]
            continue
        value = (raw or "").strip()
        if name == "country_code":
            value = value.upper()
        message = _problem(name, value)
        if message is not None:
            errors[name] = [message]
        cleaned[name] = value
    if errors:
        raise AddressInvalid(fields=errors)
    return cleaned


def _problem(name: str, value: str) -> str | None:
    """What is wrong with one trimmed value, or None."""
    if any(unicodedata.category(character) in _CONTROL_CATEGORIES for character in value):
        return CONTROL_CHARACTERS
    if not value:
        return REQUIRED_MESSAGES.get(name)
    if name == "country_code":
        return None if is_country_code(value) else UNKNOWN_COUNTRY
    if len(value) > MAX_LENGTHS[name]:
        return f"Use at most {MAX_LENGTHS[name]} characters."
    if name == "phone" and not _PHONE.match(value):
        return BAD_PHONE
    return None
