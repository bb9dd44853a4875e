"""API schemas of orders: a summary for lists, the full order, and the dicts they serialise.

``OrderSchema`` is what the customer's order page shows (lines, totals, shipping address and
method, payment, history, shipments with their tracking links); ``OrderSummarySchema`` is a
row of a list. ``order_representation``
serialises what the edge read with the pages' own query (``orders.queries.order_details``),
and ``order_summary`` an ``Order`` and its unit count, so every API that returns an order (the
caller's, staff's, checkout's) answers with one shape; they read nothing themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import marshmallow as ma
from marshmallow import validate

from funnel.core.api import MoneyField
from funnel.core.api.paging import cursor_parameter, next_cursor_field
from funnel.core.money import Money
from funnel.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Refund,
    RefundStatus,
    Shipment,
)
from funnel.orders.schemas.shipments import (
    ShipmentLineSchema as ShipmentLineSchema,
)
from funnel.orders.schemas.shipments import ShipmentSchema as ShipmentSchema
from funnel.orders.schemas.shipments import (
    shipment_representation as shipment_representation,
)
from funnel.payments.models import Payment, PaymentStatus

MAX_ORDER_PAGE_SIZE = 100
_STATUSES = [status.value for status in OrderStatus]
_PAYMENT_STATUSES = [status.value for status in PaymentStatus]


class OrderQuerySchema(ma.Schema):
    """The parameters of a list of orders: page size and cursor."""

    limit = ma.fields.Integer(
        validate=validate.Range(min=1, max=MAX_ORDER_PAGE_SIZE),
        metadata={"description": "Page size (default 20)"},
    )
    cursor = cursor_parameter()


class OrderSummarySchema(ma.Schema):
    number = ma.fields.String(required=True, metadata={"example": "FN-7K3QX9MD"})
    status = ma.fields.String(required=True, metadata={"enum": _STATUSES})
    status_label = ma.fields.String(
        required=True, metadata={"description": "The status in words", "example": "Paid"}
    )
    placed_at = ma.fields.DateTime(required=True)
    total = MoneyField(required=True)
    item_count = ma.fields.Integer(required=True, metadata={"description": "Units, all lines"})


class OrderPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(OrderSummarySchema), required=True)
    next_cursor = next_cursor_field()


class OrderLineSchema(ma.Schema):
    """A line as bought: SKU, titles and unit price at that moment, whatever changed since."""

    id = ma.fields.Integer(
        required=True, metadata={"description": "The line's id (a shipment names lines by it)"}
    )
    sku = ma.fields.String(required=True)
    product_title = ma.fields.String(required=True)
    variant_label = ma.fields.String(required=True)
    unit_price = MoneyField(required=True)
    quantity = ma.fields.Integer(required=True)
    line_total = MoneyField(required=True)
    refunded_quantity = ma.fields.Integer(
        required=True, metadata={"description": "Units refunded so far (or being refunded)"}
    )


class OrderShippingAddressSchema(ma.Schema):
    full_name = ma.fields.String(required=True)
    company = ma.fields.String(required=True, allow_none=True)
    line1 = ma.fields.String(required=True)
    line2 = ma.fields.String(required=True, allow_none=True)
    city = ma.fields.String(required=True)
    region = ma.fields.String(required=True, allow_none=True)
    postal_code = ma.fields.String(required=True)
    country_code = ma.fields.String(required=True, metadata={"example": "GB"})
    phone = ma.fields.String(required=True, allow_none=True)


class OrderShippingMethodSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "standard"})
    name = ma.fields.String(required=True, metadata={"example": "Standard delivery"})


class OrderPaymentSchema(ma.Schema):
    gateway = ma.fields.String(required=True, metadata={"example": "test"})
    method = ma.fields.String(
        required=True, metadata={"description": "The payment method in words", "example": "Card"}
    )
    status = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "enum": [*_PAYMENT_STATUSES, None],
            "description": "The current (or last) payment's status; null: none recorded yet",
        },
    )
    card_brand = ma.fields.String(required=True, allow_none=True)
    card_last4 = ma.fields.String(required=True, allow_none=True)
    paid_so_far = MoneyField(
        required=True,
        metadata={"description": "What the shop has received (a bank transfer may come in parts)"},
    )
    still_due = MoneyField(
        required=True, metadata={"description": "What is left to pay; zero once paid"}
    )
    refunded = MoneyField(required=True)


class OrderEventSchema(ma.Schema):
    """One step of the order's history; ``from_status`` null: the order was placed."""

    from_status = ma.fields.String(required=True, allow_none=True)
    to_status = ma.fields.String(required=True)
    note = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)


class OrderRefundLineSchema(ma.Schema):
    """Units of one order line a refund gave back."""

    order_line_id = ma.fields.Integer(required=True)
    sku = ma.fields.String(required=True)
    product_title = ma.fields.String(required=True)
    variant_label = ma.fields.String(required=True)
    quantity = ma.fields.Integer(required=True, metadata={"description": "Units refunded"})
    amount = MoneyField(
        required=True, metadata={"description": "Their price and their share of the tax"}
    )
    restocked = ma.fields.Boolean(
        required=True, metadata={"description": "The units went back to stock"}
    )


class OrderRefundSchema(ma.Schema):
    """One refund: what it gave back, by line (and shipping), or as an amount (no lines)."""

    id = ma.fields.Integer(required=True)
    status = ma.fields.String(
        required=True,
        metadata={
            "enum": [status.value for status in RefundStatus],
            "description": "`pending`: the gateway has not answered yet",
        },
    )
    amount = MoneyField(required=True, metadata={"description": "All this refund gave back"})
    shipping = MoneyField(
        required=True, metadata={"description": "Of which the shipping and its tax (0: none)"}
    )
    reason = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    lines = ma.fields.List(
        ma.fields.Nested(OrderRefundLineSchema),
        required=True,
        metadata={"description": "Empty for a refund of an amount"},
    )


class OrderSchema(OrderSummarySchema):
    email = ma.fields.String(required=True)
    currency = ma.fields.String(required=True, metadata={"example": "USD"})
    lines = ma.fields.List(ma.fields.Nested(OrderLineSchema), required=True)
    subtotal = MoneyField(required=True)
    shipping = MoneyField(required=True)
    tax = MoneyField(required=True)
    tax_rate_basis_points = ma.fields.Integer(
        required=True, metadata={"description": "2000 is 20%", "example": 2000}
    )
    shipping_address = ma.fields.Nested(OrderShippingAddressSchema, required=True)
    shipping_method = ma.fields.Nested(OrderShippingMethodSchema, required=True)
    payment = ma.fields.Nested(OrderPaymentSchema, required=True)
    paid_at = ma.fields.DateTime(required=True, allow_none=True)
    fulfilled_at = ma.fields.DateTime(required=True, allow_none=True)
    delivered_at = ma.fields.DateTime(required=True, allow_none=True)
    cancelled_at = ma.fields.DateTime(required=True, allow_none=True)
    refunded_at = ma.fields.DateTime(required=True, allow_none=True)
    events = ma.fields.List(
        ma.fields.Nested(OrderEventSchema),
        required=True,
        metadata={"description": "The order's history, oldest first"},
    )
    shipments = ma.fields.List(
        ma.fields.Nested(ShipmentSchema),
        required=True,
        metadata={"description": "The parcels sent so far, oldest first"},
    )
    refunds = ma.fields.List(
        ma.fields.Nested(OrderRefundSchema),
        required=True,
        metadata={"description": "The refunds made so far, oldest first"},
    )


class OrderRead(Protocol):
    """What ``order_representation`` serialises: an order as its page shows it
    (``orders.queries.OrderDetails``): its lines and history oldest first, its payments, the
    live one (if any) and the payment method in words."""

    @property
    def order(self) -> Order: ...

    @property
    def lines(self) -> Sequence[OrderLine]: ...

    @property
    def events(self) -> Sequence[OrderEvent]: ...

    @property
    def payments(self) -> Sequence[Payment]: ...

    @property
    def live_payment(self) -> Payment | None: ...

    @property
    def payment_method(self) -> str: ...

    @property
    def shipments(self) -> Sequence[Shipment]: ...

    @property
    def refunds(self) -> Sequence[Refund]: ...

    @property
    def refunded_quantities(self) -> dict[int, int]: ...

    @property
    def paid_so_far(self) -> Money: ...

    @property
    def still_due(self) -> Money: ...


def order_summary(order: Order, item_count: int) -> dict[str, Any]:
    """An ``OrderSummarySchema`` dict (``item_count``: see ``orders.queries.item_counts``)."""
    return {
        "number": order.number,
        "status": order.status.value,
        "status_label": order.status_label,
        "placed_at": order.placed_at,
        "total": order.total,
        "item_count": item_count,
    }


def order_representation(details: OrderRead) -> dict[str, Any]:
    """An ``OrderSchema`` dict: what the order page shows."""
    order = details.order
    currency = order.currency
    return {
        **order_summary(order, sum(line.quantity for line in details.lines)),
        "email": order.email,
        "currency": currency,
        "lines": [
            {**_line(line, currency), "refunded_quantity": details.refunded_quantities[line.id]}
            for line in details.lines
        ],
        "subtotal": order.subtotal,
        "shipping": order.shipping,
        "tax": order.tax,
        "tax_rate_basis_points": order.tax_rate_basis_points,
        "shipping_address": {
            "full_name": order.ship_full_name,
            "company": order.ship_company,
            "line1": order.ship_line1,
            "line2": order.ship_line2,
            "city": order.ship_city,
            "region": order.ship_region,
            "postal_code": order.ship_postal_code,
            "country_code": order.ship_country_code,
            "phone": order.ship_phone,
        },
        "shipping_method": {
            "code": order.shipping_method_code,
            "name": order.shipping_method_name,
        },
        "payment": {
            **_payment(
                order,
                details.payment_method,
                details.live_payment or (details.payments[-1] if details.payments else None),
            ),
            "paid_so_far": details.paid_so_far,
            "still_due": details.still_due,
        },
        "paid_at": order.paid_at,
        "fulfilled_at": order.fulfilled_at,
        "delivered_at": order.delivered_at,
        "cancelled_at": order.cancelled_at,
        "refunded_at": order.refunded_at,
        "events": [_event(event) for event in details.events],
        "shipments": [shipment_representation(shipment) for shipment in details.shipments],
        "refunds": [refund_representation(refund, currency) for refund in details.refunds],
    }


def refund_representation(refund: Refund, currency: str) -> dict[str, Any]:
    """An ``OrderRefundSchema`` dict (the refund's lines and their order lines loaded)."""
    return {
        "id": refund.id,
        "status": refund.status.value,
        "amount": Money(refund.amount_minor, currency),
        "shipping": Money(refund.shipping_minor, currency),
        "reason": refund.reason,
        "created_at": refund.created_at,
        "lines": [
            {
                "order_line_id": item.order_line_id,
                "sku": item.order_line.sku,
                "product_title": item.order_line.product_title,
                "variant_label": item.order_line.variant_label,
                "quantity": item.quantity,
                "amount": Money(item.amount_minor, currency),
                "restocked": item.is_restocked,
            }
            for item in refund.lines
        ],
    }


def _line(line: OrderLine, currency: str) -> dict[str, Any]:
    return {
        "id": line.id,
        "sku": line.sku,
        "product_title": line.product_title,
        "variant_label": line.variant_label,
        "unit_price": Money(line.unit_price_minor, currency),
        "quantity": line.quantity,
        "line_total": Money(line.line_total_minor, currency),
    }


def _payment(order: Order, method: str, payment: Payment | None) -> dict[str, Any]:
    """The payment as the order page shows it: the live one, else the last attempt."""
    return {
        "gateway": order.payment_gateway,
        "method": method,
        "status": payment.status.value if payment is not None else None,
        "card_brand": payment.card_brand if payment is not None else None,
        "card_last4": payment.card_last4 if payment is not None else None,
        "refunded": payment.refunded if payment is not None else Money.zero(order.currency),
    }


def _event(event: OrderEvent) -> dict[str, Any]:
    return {
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": event.note,
        "created_at": event.created_at,
    }
