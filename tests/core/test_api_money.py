"""Money in an API response: one field, from a Money value or from two named attributes."""

from __future__ import annotations

from dataclasses import dataclass

import marshmallow as ma
import pytest

from funnel.core.api import MoneyField
from funnel.core.money import Money


@dataclass
class _Order:
    total_minor: int
    currency: str


class _PriceSchema(ma.Schema):
    price = MoneyField(required=True, allow_none=True)


class _OrderSchema(ma.Schema):
    total = MoneyField(amount="total_minor", currency="currency", required=True)


def test_a_money_value_is_its_minor_units_and_currency() -> None:
    assert _PriceSchema().dump({"price": Money(1999, "USD")}) == {
        "price": {"amount": 1999, "currency": "USD"}
    }


def test_the_named_attributes_of_the_object_serialised_make_the_money() -> None:
    dumped = _OrderSchema().dump(_Order(total_minor=2800, currency="EUR"))

    assert dumped == {"total": {"amount": 2800, "currency": "EUR"}}


def test_the_named_keys_of_a_dict_make_the_money_too() -> None:
    dumped = _OrderSchema().dump({"total_minor": 0, "currency": "JPY"})

    assert dumped == {"total": {"amount": 0, "currency": "JPY"}}


def test_no_money_is_null() -> None:
    assert _PriceSchema().dump({"price": None}) == {"price": None}


def test_a_hand_made_money_dict_is_refused() -> None:
    with pytest.raises(TypeError, match="price: give MoneyField a Money"):
        _PriceSchema().dump({"price": {"amount": 1999, "currency": "USD"}})


def test_the_field_names_both_attributes_or_neither() -> None:
    with pytest.raises(TypeError, match="both amount= and currency="):
        MoneyField(amount="total_minor")
