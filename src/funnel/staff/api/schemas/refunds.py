"""Refunds by line, by shipping or by amount."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from funnel.core.api import MoneyField, MoneyInputSchema
from funnel.orders.schemas import OrderRefundLineSchema
from funnel.staff.api.schemas.fields import ID_RANGE, MAX_STOCK, NOTE_RULE, Text
from funnel.staff.api.schemas.orders import StaffOrderSchema


class RefundLineInputSchema(ma.Schema):
    order_line_id = ma.fields.Integer(required=True, validate=ID_RANGE)
    quantity = ma.fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_STOCK))
    restock = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "The units came back (or never left): put them back in stock"},
    )


class RefundInputSchema(ma.Schema):
    lines = ma.fields.List(
        ma.fields.Nested(RefundLineInputSchema),
        load_default=list,
        validate=validate.Length(max=200),
        metadata={
            "description": "Units of the order's lines to refund, each at its price and share "
            "of the tax; not with `amount`"
        },
    )
    shipping = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Refund the shipping and its tax too (once per order)"},
    )
    amount = ma.fields.Nested(
        MoneyInputSchema,
        allow_none=True,
        load_default=None,
        metadata={
            "description": "Without lines or shipping: what to refund (nothing goes back to "
            "stock); absent or null: all that is left"
        },
    )
    reason = Text(load_default="", validate=NOTE_RULE)
    return_number = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=40),
        metadata={
            "description": "A received return this refund settles: it becomes `refunded`, "
            "linked to the refund"
        },
    )


class RefundResultSchema(ma.Schema):
    amount = MoneyField(required=True, metadata={"description": "Refunded by this request"})
    refunded_total = MoneyField(required=True, metadata={"description": "Refunded in all, so far"})
    is_full = ma.fields.Boolean(required=True)
    stock_returned = ma.fields.Boolean(
        required=True, metadata={"description": "This request put units back in stock"}
    )
    id = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "The refund's id in the order's `refunds` (the first request's "
            "for a replay)"
        },
    )
    shipping = MoneyField(
        required=True, metadata={"description": "Of the refund: the shipping and its tax"}
    )
    lines = ma.fields.List(
        ma.fields.Nested(OrderRefundLineSchema),
        required=True,
        metadata={"description": "Of the refund: its lines (empty for an amount)"},
    )


class RefundSchema(ma.Schema):
    refund = ma.fields.Nested(RefundResultSchema, required=True)
    order = ma.fields.Nested(StaffOrderSchema, required=True)
