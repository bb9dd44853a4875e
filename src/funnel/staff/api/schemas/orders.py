"""The staff's order list and order, and status transitions."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from funnel.accounts.models import EMAIL_MAX_LENGTH
from funnel.core.api import MoneyField, MoneyInputSchema
from funnel.core.api.paging import cursor_parameter, next_cursor_field
from funnel.orders.listing import Fulfilment
from funnel.orders.models import STAFF_TARGETS, OrderStatus
from funnel.orders.schemas import (
    OrderEventSchema,
    OrderSchema,
    OrderSummarySchema,
    ShipmentSchema,
)
from funnel.payments.gateways import enabled_gateway_names
from funnel.staff.api.schemas.fields import DAY_RANGE, NOTE_RULE, Text, page_limit


def _enabled_gateway(name: str) -> None:
    """A payment method filter names an enabled gateway (the shop's setting, read per call)."""
    choices = enabled_gateway_names()
    if name not in choices:
        raise ma.ValidationError(f"Choose one of: {', '.join(choices)}.")


class StaffOrderQuerySchema(ma.Schema):
    status = ma.fields.String(validate=validate.OneOf([status.value for status in OrderStatus]))
    q = Text(
        validate=validate.Length(max=EMAIL_MAX_LENGTH),
        metadata={
            "description": "An order number, or a part of the customer's email or of the "
            "ship-to name (any letter case, characters taken literally)"
        },
    )
    fulfilment = ma.fields.String(
        validate=validate.OneOf([state.value for state in Fulfilment]),
        metadata={
            "description": "unshipped (awaiting payment or paid), shipped (fulfilled), "
            "delivered: derived from the status"
        },
    )
    payment_method = ma.fields.String(
        validate=_enabled_gateway,
        metadata={"description": "A payment gateway the shop has enabled, e.g. test, manual, cod"},
    )
    placed_from = ma.fields.Date(
        validate=DAY_RANGE, metadata={"description": "Placed on or after this day (UTC)"}
    )
    placed_to = ma.fields.Date(
        validate=DAY_RANGE, metadata={"description": "Placed on or before this day (UTC)"}
    )
    limit = page_limit()
    cursor = cursor_parameter()


class StaffOrderSummarySchema(OrderSummarySchema):
    email = ma.fields.String(required=True)
    user_id = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "null: a guest's order"}
    )


class StaffOrderPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(StaffOrderSummarySchema), required=True)
    next_cursor = next_cursor_field()


class StaffOrderEventSchema(OrderEventSchema):
    actor_user_id = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "null: the shop or the buyer"}
    )


class StaffPaymentSchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"description": "The payment's public id"})
    gateway = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    amount = MoneyField(required=True)
    refunded = MoneyField(required=True)
    received = MoneyField(
        required=True, metadata={"description": "What it has received so far (all, once paid)"}
    )
    card_brand = ma.fields.String(required=True, allow_none=True)
    card_last4 = ma.fields.String(required=True, allow_none=True)
    failure_message = ma.fields.String(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)


class StaffShipmentSchema(ShipmentSchema):
    shipped_by_user_id = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "null: the shop"}
    )


class StaffOrderSchema(OrderSchema):
    user_id = ma.fields.Integer(required=True, allow_none=True)
    shipments = ma.fields.List(  # type: ignore[assignment]
        ma.fields.Nested(StaffShipmentSchema),
        required=True,
        metadata={"description": "The parcels sent so far, oldest first, with who sent each"},
    )
    events = ma.fields.List(  # type: ignore[assignment]
        ma.fields.Nested(StaffOrderEventSchema),
        required=True,
        metadata={"description": "The order's history, oldest first, with who took each step"},
    )
    payments = ma.fields.List(
        ma.fields.Nested(StaffPaymentSchema),
        required=True,
        metadata={"description": "Every payment attempt, oldest first"},
    )
    refundable = MoneyField(required=True, metadata={"description": "What is left to refund"})
    actions = ma.fields.List(
        ma.fields.String(
            metadata={"enum": ["record_payment", "fulfil", "deliver", "cancel", "refund"]}
        ),
        required=True,
        metadata={"description": "The steps the order allows now that the caller may take"},
    )


class TransitionInputSchema(ma.Schema):
    to = ma.fields.String(
        required=True,
        validate=validate.OneOf([status.value for status in STAFF_TARGETS]),
        metadata={
            "description": "paid: a bank transfer received; fulfilled: shipped; "
            "delivered (cash on delivery: the cash received); cancelled (a paid order is "
            "refunded in full)"
        },
    )
    note = Text(
        load_default="",
        validate=NOTE_RULE,
        metadata={
            "description": "Why: the reason (required) when cancelling; the bank's reference "
            "for a payment; anything to add when shipping"
        },
    )
    carrier = ma.fields.String(
        metadata={
            "description": "fulfilled (required): the carrier's code, as for shipments "
            "(e.g. `dhl`, or `other` with `carrier_name`)"
        },
    )
    tracking_number = Text(
        load_default="", metadata={"description": "fulfilled: the carrier's tracking number"}
    )
    carrier_name = Text(load_default="", metadata={"description": "fulfilled, carrier `other`"})
    tracking_url = Text(load_default="", metadata={"description": "fulfilled, carrier `other`"})
    amount_received = ma.fields.Nested(
        MoneyInputSchema,
        metadata={
            "description": "paid, or delivered for cash on delivery: the amount received "
            "(default: all that is still due)"
        },
    )
    received_on = ma.fields.Date(
        metadata={
            "description": "paid: the day the bank transfer arrived (default today in the "
            "shop's time zone; never in the future)"
        },
    )
    partial = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "paid: the amount is a part of what is still due (needs an "
            "Idempotency-Key header); the order is paid when the parts reach the total"
        },
    )


class TransitionSchema(ma.Schema):
    changed = ma.fields.Boolean(
        required=True, metadata={"description": "false: the order already had that status"}
    )
    order = ma.fields.Nested(StaffOrderSchema, required=True)
