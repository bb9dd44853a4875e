"""Shipping an order in parts (US-30) and the customer's shipping email (US-23): partial then
complete shipments, refusals that change nothing, a repeated request that ships once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from funnel.accounts.models import User
from funnel.core.errors import PermissionDenied
from funnel.extensions import db
from funnel.orders import queries, services
from funnel.orders.errors import InvalidOrderInput, InvalidOrderTransition, ShipmentExceedsOrder
from funnel.orders.models import Order, OrderStatus, Shipment, ShipmentLine
from tests.factories.catalog import ProductFactory
from tests.factories.inventory import stocked_variant
from tests.factories.orders import pay_by_card, place
from tests.orders.helpers import statuses
from tests.support.api_carts import catalog_variants
from tests.support.mailbox import Mailbox

pytestmark = pytest.mark.story("US-30")


def two_line_order() -> tuple[Order, int, int]:
    """A paid order of 3 units of one line and 1 of another: (order, line ids)."""
    order = place([(stocked_variant(10), 3), (stocked_variant(10), 1)])
    pay_by_card(order)
    first, second = queries.order_lines(order)
    return order, first.id, second.id


def shipped_rows(order: Order) -> list[tuple[int, int, int]]:
    """(shipment id, order line id, quantity) of every shipment line of the order."""
    db.session.expire_all()
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(Shipment.id, ShipmentLine.order_line_id, ShipmentLine.quantity)
            .join(ShipmentLine, ShipmentLine.shipment_id == Shipment.id)
            .where(Shipment.order_id == order.id)
            .order_by(ShipmentLine.id)
        )
    ]


def test_a_partial_shipment_then_the_rest_fulfils_the_order(app: Flask, staff_user: User) -> None:
    order, first, second = two_line_order()

    partial = services.ship_items(
        order.number, {first: 2}, carrier="dhl", tracking_number="JD0001",
        actor_user_id=staff_user.id, request_key="form-first",
    )  # fmt: skip

    assert (partial.changed, partial.units, partial.change.status) == (True, 2, OrderStatus.PAID)
    assert queries.order_details(queries.get_order(order.number)).remaining_quantities == {
        first: 1,
        second: 1,
    }
    rest = services.ship_items(
        order.number, None, carrier="ups", tracking_number="1Z 999",
        actor_user_id=staff_user.id, request_key="form-second",
    )  # fmt: skip

    assert (rest.changed, rest.units, rest.change.changed) == (True, 2, True)
    assert queries.get_order(order.number).status == OrderStatus.FULFILLED
    assert shipped_rows(order) == [
        (partial.shipment_id, first, 2),
        (rest.shipment_id, first, 1),
        (rest.shipment_id, second, 1),
    ]
    assert statuses(order)[2:] == [("paid", "paid"), ("paid", "fulfilled")]
    notes = [event.note for event in queries.order_events(order)[2:]]
    assert notes == [
        "shipped 2 items by DHL, tracking JD0001",
        "shipped 2 items by UPS, tracking 1Z 999",
    ]
    [_, second_shipment] = queries.order_shipments(order)
    assert second_shipment.tracking_url == "https://www.ups.com/track?tracknum=1Z%20999"
    assert second_shipment.shipped_by_user_id == staff_user.id


def test_shipping_more_than_is_left_is_refused_and_changes_nothing(
    app: Flask, staff_user: User
) -> None:
    order, first, second = two_line_order()
    services.ship_items(order.number, {first: 2}, carrier="dhl", actor_user_id=staff_user.id)

    with pytest.raises(ShipmentExceedsOrder) as refused:
        services.ship_items(
            order.number, {first: 2, second: 1}, carrier="dhl", actor_user_id=staff_user.id
        )

    assert refused.value.status == 422
    sku = queries.order_lines(order)[0].sku
    assert refused.value.fields == {f"lines.{first}": [f"{sku}: 2 asked, 1 left to ship."]}
    assert [row[1:] for row in shipped_rows(order)] == [(first, 2)]
    assert statuses(order)[2:] == [("paid", "paid")]


@pytest.mark.parametrize(
    ("lines", "carrier", "extra", "field"),
    [
        ({}, "dhl", {}, "lines"),
        ({0: 0}, "dhl", {}, "lines"),
        ({"first": -1}, "dhl", {}, "lines.first"),
        ({"unknown": 1}, "dhl", {}, "lines.unknown"),
        (None, "pigeon", {}, "carrier"),
        (None, "other", {}, "carrier_name"),
        (None, "other", {"carrier_name": "Bikes", "tracking_url": "javascript:x"}, "tracking_url"),
        (None, "dhl", {"tracking_url": "https://example.com/t"}, "tracking_url"),
        (None, "dhl", {"tracking_number": "<script>"}, "tracking_number"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    app: Flask, staff_user: User, lines, carrier: str, extra: dict, field: str
) -> None:
    order, first, _second = two_line_order()
    ids = {"first": first, "unknown": first + 1000, 0: first}
    requested = None if lines is None else {ids[key]: value for key, value in lines.items()}
    field = field.replace("first", str(first)).replace("unknown", str(first + 1000))

    with pytest.raises(InvalidOrderInput) as refused:
        services.ship_items(
            order.number, requested, carrier=carrier, actor_user_id=staff_user.id, **extra
        )

    assert list(refused.value.fields) == [field]
    assert shipped_rows(order) == []
    assert statuses(order) == [(None, "pending_payment"), ("pending_payment", "paid")]


def test_an_unpaid_order_cannot_be_shipped(app: Flask, staff_user: User) -> None:
    order = place()

    with pytest.raises(InvalidOrderTransition) as refused:
        services.ship_items(order.number, carrier="dhl", actor_user_id=staff_user.id)

    assert refused.value.status == 409
    assert refused.value.detail == (
        f"Order {order.number} is awaiting payment: it cannot be shipped."
    )
    assert shipped_rows(order) == []
    assert statuses(order) == [(None, "pending_payment")]


def test_a_customer_cannot_ship(app: Flask, customer: User) -> None:
    order, _first, _second = two_line_order()

    with pytest.raises(PermissionDenied):
        services.ship_items(order.number, carrier="dhl", actor_user_id=customer.id)

    assert shipped_rows(order) == []


def test_the_same_request_twice_ships_once_and_emails_once(
    app: Flask, staff_user: User, mailbox: Mailbox
) -> None:
    order, first, _second = two_line_order()
    mailbox.clear()

    once = services.ship_items(
        order.number, {first: 1}, carrier="dhl", actor_user_id=staff_user.id, request_key="k1"
    )
    again = services.ship_items(
        order.number, {first: 1}, carrier="dhl", actor_user_id=staff_user.id, request_key="k1"
    )

    assert (once.changed, again.changed) == (True, False)
    assert (again.shipment_id, again.units) == (once.shipment_id, 1)
    assert [row[1:] for row in shipped_rows(order)] == [(first, 1)]
    assert len(mailbox) == 1


def test_fulfil_order_ships_everything_left(app: Flask, staff_user: User) -> None:
    order, first, second = two_line_order()
    services.ship_items(order.number, {first: 1}, carrier="dhl", actor_user_id=staff_user.id)

    change = services.fulfil_order(order.number, actor_user_id=staff_user.id, note="DHL 42")
    again = services.fulfil_order(order.number, actor_user_id=staff_user.id)

    assert (change.changed, change.status, again.changed) == (True, OrderStatus.FULFILLED, False)
    assert [row[1:] for row in shipped_rows(order)] == [(first, 1), (first, 2), (second, 1)]
    assert queries.order_events(order)[-1].note == "DHL 42"


@pytest.mark.story("US-23", "US-24", "US-30")
def test_the_shipping_email_lists_the_items_shipped_and_the_tracking_link(
    app: Flask, staff_user: User, mailbox: Mailbox
) -> None:
    # given a paid order for 2 shirts and 1 cap
    shirt = ProductFactory(
        title="Shirt", variants=[{"sku": "SHIRT-M", "price": 2500, "title": "Medium"}]
    )
    cap = ProductFactory(title="Cap", variants=[{"sku": "CAP-1", "price": 900, "title": ""}])
    [shirt_variant], [cap_variant] = catalog_variants(shirt.id), catalog_variants(cap.id)
    for variant in (shirt_variant, cap_variant):
        variant.stock_quantity = 10
    db.session.commit()
    order = place([(shirt_variant, 2), (cap_variant, 1)], email="ann@example.com")
    pay_by_card(order)
    shirt_line, _cap_line = queries.order_lines(order)
    mailbox.clear()

    # when one shirt ships with DHL
    services.ship_items(
        order.number, {shirt_line.id: 1}, carrier="dhl", tracking_number="JD014600",
        actor_user_id=staff_user.id,
    )  # fmt: skip

    # then the customer is told exactly that, with the tracking link
    [message] = mailbox
    assert (message["To"], message["Subject"]) == (
        "ann@example.com",
        f"Order {order.number} shipped",
    )
    text = mailbox.body(message).replace("\r\n", "\n")
    assert "Part of your order" in text
    assert "In this parcel:\n- 1 \u00d7 Shirt (Medium), SHIRT-M\n\n" in text
    assert "Cap" not in text
    assert "Carrier: DHL\nTracking number: JD014600\n" in text
    link = "https://www.dhl.com/en/express/tracking.html?AWB=JD014600"
    assert f"Track your parcel:\n{link}\n" in text
    assert "$" not in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f'<a href="{link}">Track your parcel</a>' in html
