"""The postal address rules, one set for the address book, the checkout and orders."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from funnel.accounts import postal
from funnel.accounts.errors import AddressInvalid
from funnel.accounts.postal import PostalAddress

VALID = {
    "full_name": "Ann Smith",
    "company": "",
    "line1": "1 High Street",
    "line2": "Flat 2",
    "city": "Bristol",
    "region": "",
    "postal_code": "BS1 4DJ",
    "country_code": "GB",
    "phone": "+44 117 496 0000",
}


def refusal(**changes: object) -> dict[str, list[str]]:
    with pytest.raises(AddressInvalid) as raised:
        postal.parse({**VALID, **changes})
    assert (raised.value.code, raised.value.status) == ("address_invalid", 422)
    return raised.value.fields


def test_a_valid_address_is_trimmed_and_its_country_upper_cased() -> None:
    address = postal.parse(
        {**VALID, "full_name": "  Ann Smith ", "country_code": " gb", "company": None}
    )

    assert address == PostalAddress(
        full_name="Ann Smith",
        line1="1 High Street",
        line2="Flat 2",
        city="Bristol",
        postal_code="BS1 4DJ",
        country_code="GB",
        phone="+44 117 496 0000",
    )
    assert address.company == address.region == ""


def test_optional_fields_may_be_missing_and_other_keys_are_ignored() -> None:
    address = postal.parse(
        {
            "full_name": "Ann Smith",
            "line1": "1 High Street",
            "city": "Bristol",
            "postal_code": "BS1 4DJ",
            "country_code": "FR",
            "is_default_shipping": True,
        }
    )

    assert (address.company, address.line2, address.region, address.phone) == ("", "", "", "")


def test_columns_hold_none_for_empty_optional_fields_under_a_prefix() -> None:
    address = postal.parse(VALID)

    assert address.columns(prefix="ship_") == {
        "ship_full_name": "Ann Smith",
        "ship_line1": "1 High Street",
        "ship_city": "Bristol",
        "ship_postal_code": "BS1 4DJ",
        "ship_country_code": "GB",
        "ship_company": None,
        "ship_line2": "Flat 2",
        "ship_region": None,
        "ship_phone": "+44 117 496 0000",
    }


def test_read_takes_an_address_from_attributes() -> None:
    row = SimpleNamespace(**{f"ship_{name}": value or None for name, value in VALID.items()})

    assert postal.read(row, prefix="ship_") == postal.parse(VALID)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"full_name": ""}, {"full_name": ["Enter the full name."]}),
        ({"line1": "   "}, {"line1": ["Enter the first address line."]}),
        ({"city": None}, {"city": ["Enter the city."]}),
        ({"postal_code": "\t"}, {"postal_code": ["Enter the postal code."]}),
        ({"country_code": ""}, {"country_code": ["Choose a country."]}),
        ({"country_code": "XX"}, {"country_code": ["Choose a country from the list."]}),
        ({"country_code": "GBR"}, {"country_code": ["Choose a country from the list."]}),
        ({"country_code": "United Kingdom"}, {"country_code": ["Choose a country from the list."]}),
        ({"full_name": "A" * 201}, {"full_name": ["Use at most 200 characters."]}),
        ({"company": "C" * 201}, {"company": ["Use at most 200 characters."]}),
        ({"line1": "L" * 201}, {"line1": ["Use at most 200 characters."]}),
        ({"line2": "L" * 201}, {"line2": ["Use at most 200 characters."]}),
        ({"city": "C" * 101}, {"city": ["Use at most 100 characters."]}),
        ({"region": "R" * 101}, {"region": ["Use at most 100 characters."]}),
        ({"postal_code": "1" * 21}, {"postal_code": ["Use at most 20 characters."]}),
        ({"phone": "1" * 33}, {"phone": ["Use at most 32 characters."]}),
        (
            {"phone": "call me maybe"},
            {"phone": ["Enter a phone number: digits, spaces and + ( ) - . only."]},
        ),
        (
            {"phone": "12"},
            {"phone": ["Enter a phone number: digits, spaces and + ( ) - . only."]},
        ),
        ({"city": "Bris\x00tol"}, {"city": ["Remove the control characters from this field."]}),
        ({"line2": "a\x1bb"}, {"line2": ["Remove the control characters from this field."]}),
        ({"phone": "0117\x7f"}, {"phone": ["Remove the control characters from this field."]}),
        ({"full_name": 42}, {"full_name": ["Enter text."]}),
        ({"country_code": ["GB"]}, {"country_code": ["Enter text."]}),
    ],
)
def test_each_wrong_field_gets_one_message(
    changes: dict[str, object], fields: dict[str, list[str]]
) -> None:
    assert refusal(**changes) == fields


def test_every_wrong_field_is_reported_at_once() -> None:
    fields = refusal(full_name="", line1="", city="", postal_code="", country_code="zz")

    assert fields == {
        "full_name": ["Enter the full name."],
        "line1": ["Enter the first address line."],
        "city": ["Enter the city."],
        "postal_code": ["Enter the postal code."],
        "country_code": ["Choose a country from the list."],
    }


@pytest.mark.parametrize(
    "phone",
    [
        "",
        "0117 496 0000",
        "+44 (0)117 496-0000",
        "+1.555.010.9999",
        "06/12/34/56",
        "1234",
        "+" + "1" * 31,
    ],
)
def test_phone_numbers_accepted(phone: str) -> None:
    assert postal.parse({**VALID, "phone": phone}).phone == phone


def test_values_at_their_limits_are_accepted() -> None:
    address = postal.parse(
        {
            **VALID,
            "full_name": "A" * 200,
            "company": "C" * 200,
            "line1": "L" * 200,
            "line2": "M" * 200,
            "city": "C" * 100,
            "region": "R" * 100,
            "postal_code": "1" * 20,
            "phone": "1" * 32,
        }
    )

    assert (len(address.full_name), len(address.city), len(address.phone)) == (200, 100, 32)


def test_the_constructor_checks_too_so_every_address_is_valid() -> None:
    with pytest.raises(AddressInvalid) as raised:
        PostalAddress(
            full_name="Ann", line1="1 High St", city="Bristol", postal_code="BS1", country_code="X"
        )
    with pytest.raises(AddressInvalid):
        dataclasses.replace(postal.parse(VALID), city="")

    assert raised.value.fields == {"country_code": ["Choose a country from the list."]}


def test_an_address_cannot_be_changed_once_made() -> None:
    address = postal.parse(VALID)

    with pytest.raises(dataclasses.FrozenInstanceError):
        address.city = "Bath"  # type: ignore[misc]
