"""The address book: each customer's addresses, with at most one default shipping address."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields, replace

import sqlalchemy as sa

from funnel.accounts import queries
from funnel.accounts.countries import is_country_code
from funnel.accounts.errors import AddressInvalid, AddressNotFound
from funnel.accounts.models import Address
from funnel.core.database import transaction
from funnel.extensions import db

_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{3,31}$")
_REQUIRED = {
    "full_name": "Enter the full name.",
    "line1": "Enter the first address line.",
    "city": "Enter the city.",
    "postal_code": "Enter the postal code.",
    "country_code": "Choose a country.",
}
_MAX_LENGTHS = {
    "full_name": 200,
    "company": 200,
    "line1": 200,
    "line2": 200,
    "city": 100,
    "region": 100,
    "postal_code": 20,
    "phone": 32,
}


@dataclass(frozen=True, slots=True)
class AddressData:
    """What a customer enters for an address; optional fields may be empty."""

    full_name: str
    line1: str
    city: str
    postal_code: str
    country_code: str
    company: str = ""
    line2: str = ""
    region: str = ""
    phone: str = ""
    is_default_shipping: bool = False


def add_address(user_id: int, data: AddressData) -> Address:
    """Add an address to the user's book.

    The first address becomes the default shipping address, as does one marked default (the
    previous default is cleared). Raises AddressInvalid with a message per wrong field.
    Side effect: inserts an ``addresses`` row.
    """
    cleaned = clean_address(data)
    with transaction() as session:
        has_default = session.scalar(
            sa.select(sa.func.count())
            .select_from(Address)
            .where(Address.user_id == user_id, Address.is_default_shipping.is_(True))
        )
        address = Address(user_id=user_id, **_columns(cleaned))
        address.is_default_shipping = cleaned.is_default_shipping or not has_default
        session.add(address)
        session.flush()
        if address.is_default_shipping:
            _clear_other_defaults(user_id, address.id)
    return address


def update_address(user_id: int, address_id: int, data: AddressData) -> Address:
    """Change one of the user's addresses.

    Raises AddressNotFound when the address is not the user's (nothing changes), and
    AddressInvalid. Side effect: updates the row; marking it default clears the previous one.
    """
    cleaned = clean_address(data)
    with transaction() as session:
        address = _owned(user_id, address_id)
        for name, value in _columns(cleaned).items():
            setattr(address, name, value)
        address.is_default_shipping = cleaned.is_default_shipping
        session.flush()
        if address.is_default_shipping:
            _clear_other_defaults(user_id, address.id)
    return address


def delete_address(user_id: int, address_id: int) -> None:
    """Delete one of the user's addresses.

    Raises AddressNotFound when it is not the user's (nothing changes). Side effect: when the
    default shipping address is deleted, the newest remaining address becomes the default.
    """
    with transaction() as session:
        address = _owned(user_id, address_id)
        was_default = address.is_default_shipping
        session.delete(address)
        session.flush()
        if was_default:
            successor = session.scalar(
                sa.select(Address)
                .where(Address.user_id == user_id)
                .order_by(Address.created_at.desc(), Address.id.desc())
                .limit(1)
            )
            if successor is not None:
                successor.is_default_shipping = True


def set_default_shipping_address(user_id: int, address_id: int) -> Address:
    """Make one of the user's addresses the default shipping address, clearing the previous one.

    Raises AddressNotFound when it is not the user's.
    """
    with transaction() as session:
        address = _owned(user_id, address_id)
        address.is_default_shipping = True
        session.flush()
        _clear_other_defaults(user_id, address.id)
    return address


def clean_address(data: AddressData) -> AddressData:
    """Trim every field, upper-case the country code and check each rule.

    Raises AddressInvalid whose ``fields`` maps each wrong field to its message.
    """
    values = {
        field.name: (getattr(data, field.name) or "").strip()
        for field in fields(data)
        if field.name != "is_default_shipping"
    }
    values["country_code"] = values["country_code"].upper()
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if _has_control_characters(value):
            errors[name] = ["Remove the control characters from this field."]
        elif name in _REQUIRED and not value:
            errors[name] = [_REQUIRED[name]]
        elif name != "country_code" and len(value) > _MAX_LENGTHS[name]:
            errors[name] = [f"Use at most {_MAX_LENGTHS[name]} characters."]
    if "country_code" not in errors and not is_country_code(values["country_code"]):
        errors["country_code"] = ["Choose a country from the list (a two-letter ISO code)."]
    if "phone" not in errors and values["phone"] and not _PHONE.match(values["phone"]):
        errors["phone"] = ["Enter a phone number: digits, spaces and + ( ) - . only."]
    if errors:
        raise AddressInvalid(fields=errors)
    return replace(data, **values)


def _has_control_characters(value: str) -> bool:
    return any(unicodedata.category(character) in {"Cc", "Cs"} for character in value)


def _columns(data: AddressData) -> dict[str, str | None]:
    values = {
        field.name: getattr(data, field.name)
        for field in fields(data)
        if field.name != "is_default_shipping"
    }
    return {name: (value or None) for name, value in values.items()}


def _owned(user_id: int, address_id: int) -> Address:
    address = queries.find_address(user_id, address_id)
    if address is None:
        raise AddressNotFound()
    return address


def _clear_other_defaults(user_id: int, keep_id: int) -> None:
    db.session.execute(
        sa.update(Address)
        .where(
            Address.user_id == user_id,
            Address.id != keep_id,
            Address.is_default_shipping.is_(True),
        )
        .values(is_default_shipping=False)
        .execution_options(synchronize_session=False)
    )
