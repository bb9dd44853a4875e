"""Placing an order: totals, snapshot, first event, numbers; inconsistent input refused."""

from __future__ import annotations

import itertools
import re
from collections import Counter

import pytest
from flask import Flask
from sqlalchemy import func, select

from funnel.accounts.errors import AddressInvalid
from funnel.core.database import transaction
from funnel.core.money import Money
from funnel.extensions import db
from funnel.orders import queries, services
from funnel.orders.errors import InvalidOrder
from funnel.orders.models import Order, OrderEvent, OrderLine, OrderStatus
from funnel.orders.numbers import ALPHABET, new_number, normalise_number
from funnel.orders.services import OrderLineInput
from tests.factories.inventory import stocked_variant
from tests.factories.orders import address, line_for, money, place


def order_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Order))


def place_with(**overrides):
    variant = stocked_variant(5)
    arguments = {
        "email": "Buyer@Example.com",
        "user_id": None,
        "lines": [line_for(variant, 2)],
        "shipping_address": address(),
        "shipping_method_code": "standard",
        "shipping_method_name": "Standard delivery",
        "shipping": money(500),
        "tax": money(300),
        "tax_rate_basis_points": 2000,
        "payment_gateway": "test",
    }
    arguments.update(overrides)
    return services.place_order(**arguments)


@pytest.mark.story("US-23")
def test_an_order_is_placed_awaiting_payment_with_its_totals_and_first_event(app: Flask) -> None:
    # given two variants at $10.00 and $25.00
    first, second = stocked_variant(5), stocked_variant(5)
    second_line = line_for(second, 1)
    second_line = OrderLineInput(**{**second_line.__dict__, "unit_price": money(2500)})

    # when an order is placed for 2 of the first and 1 of the second
    order = place_with(lines=[line_for(first, 2), second_line], visitor_id="visitor-1")

    # then it awaits payment, with exact totals in minor units
    stored = queries.get_order(order.number)
    assert stored.status == OrderStatus.PENDING_PAYMENT
    assert (stored.subtotal, stored.shipping, stored.tax, stored.total) == (
        money(4500),
        money(500),
        money(300),
        money(5300),
    )
    assert (stored.email, stored.visitor_id, stored.tax_rate_basis_points) == (
        "buyer@example.com",
        "visitor-1",
        2000,
    )
    assert (stored.ship_full_name, stored.ship_line2, stored.ship_country_code) == (
        "Ann Smith",
        "Flat 2",
        "GB",
    )
    lines = queries.order_lines(stored)
    assert [
        (line.sku, line.quantity, line.unit_price_minor, line.line_total_minor) for line in lines
    ] == [
        (first.sku, 2, 1000, 2000),
        (second.sku, 1, 2500, 2500),
    ]
    [event] = queries.order_events(stored)
    assert (event.from_status, event.to_status, event.note) == (None, "pending_payment", "placed")
    assert stored.paid_at is None


@pytest.mark.story("US-23")
def test_the_order_number_is_short_random_and_forgiving_to_type(app: Flask) -> None:
    order = place_with()

    assert re.fullmatch(rf"FN-[{ALPHABET}]{{8}}", order.number)
    typed = order.number.lower().replace("fn-", "fn ").replace("0", "o").replace("1", "l")
    assert normalise_number(typed) == order.number
    assert queries.get_order(typed).id == order.id
    assert normalise_number("FN-1234") is None
    assert normalise_number("FN-UUUUUUUU") is None  # U is not in Crockford's alphabet


@pytest.mark.story("US-23")
def test_numbers_are_unique_and_show_no_sequence(app: Flask) -> None:
    # given the numbers of 20 orders placed one after the other
    variant = stocked_variant(100)
    numbers = [place_with(lines=[line_for(variant, 1)]).number for _ in range(20)]

    # then they are all different, not in order, and not close to one another
    assert len(set(numbers)) == 20
    assert numbers != sorted(numbers)
    values = [int(number[3:], 36) for number in numbers]
    steps = {abs(b - a) for a, b in itertools.pairwise(values)}
    assert min(steps) > 1000
    # and a large sample of the generator uses every character of the alphabet evenly enough
    counts = Counter("".join(new_number()[3:] for _ in range(4000)))
    assert set(counts) == set(ALPHABET)
    assert max(counts.values()) < 2 * min(counts.values())


@pytest.mark.story("US-23")
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"lines": []}, "lines"),
        ({"shipping": Money(500, "EUR")}, "shipping"),
        ({"tax": Money(-1, "USD")}, "tax"),
        ({"expected_total": Money(5299, "USD")}, "total"),
        ({"tax_rate_basis_points": -5}, "tax_rate_basis_points"),
        ({"email": "not an email"}, "email"),
        ({"shipping_address": {"full_name": "Ann Smith"}}, "shipping_address"),
        ({"shipping_method_code": ""}, "shipping_method"),
        ({"payment_gateway": ""}, "payment_gateway"),
        ({"user_id": 987654}, "user_id"),
    ],
)
def test_place_order_refuses_inconsistent_input_and_writes_nothing(
    app: Flask, overrides: dict, field: str
) -> None:
    with pytest.raises(InvalidOrder) as raised:
        place_with(**overrides)

    assert raised.value.code == "invalid_order"
    assert raised.value.status == 422
    assert field in raised.value.fields
    assert order_count() == 0


@pytest.mark.story("US-23")
@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"full_name": "  "}, "full_name"), ({"country_code": "XX"}, "country_code")],
)
def test_an_order_cannot_be_given_an_address_that_breaks_the_rules(
    app: Flask, overrides: dict, field: str
) -> None:
    # the address is checked when it is made, so no order can be placed with it
    with pytest.raises(AddressInvalid) as raised:
        place_with(shipping_address=address(**overrides))

    assert list(raised.value.fields) == [field]
    assert order_count() == 0


@pytest.mark.story("US-23")
def test_lines_in_two_currencies_are_refused(app: Flask) -> None:
    variant = stocked_variant(5)
    euro_line = OrderLineInput(**{**line_for(variant, 1).__dict__, "unit_price": Money(900, "EUR")})

    with pytest.raises(InvalidOrder) as raised:
        place_with(lines=[line_for(variant, 1), euro_line])

    assert raised.value.fields == {"lines.1": ["The unit price is in EUR, the order in USD."]}
    assert order_count() == 0


@pytest.mark.story("US-23")
def test_a_bad_quantity_is_refused(app: Flask) -> None:
    variant = stocked_variant(5)
    line = OrderLineInput(**{**line_for(variant, 1).__dict__, "quantity": 0})

    with pytest.raises(InvalidOrder) as raised:
        place_with(lines=[line])

    assert list(raised.value.fields) == ["lines.0"]
    assert order_count() == 0


@pytest.mark.story("US-23")
def test_the_expected_total_is_accepted_when_it_adds_up(app: Flask) -> None:
    order = place_with(expected_total=money(2800))

    assert order.total == money(2800)


@pytest.mark.story("US-23")
def test_an_order_placed_in_a_transaction_that_rolls_back_leaves_nothing(app: Flask) -> None:
    # given the checkout's transaction fails after placing the order (say, the stock ran out)
    class StockRanOut(Exception):
        pass

    def checkout() -> None:
        with transaction():
            place_with()
            raise StockRanOut

    with pytest.raises(StockRanOut):
        checkout()

    # then no order, line or event is left behind
    assert order_count() == 0
    assert db.session.scalar(select(func.count()).select_from(OrderLine)) == 0
    assert db.session.scalar(select(func.count()).select_from(OrderEvent)) == 0


def test_the_factory_takes_the_stock_under_the_order_number(app: Flask) -> None:
    from funnel.inventory import queries as inventory_queries

    variant = stocked_variant(10)
    order = place([(variant, 3)])

    assert inventory_queries.order_net_quantities(order.number) == {variant.id: 3}
    db.session.refresh(variant)
    assert variant.stock_quantity == 7
