"""API schemas of return requests: what the customer sends, and a return as the customer and
staff read it (``return_representation`` serialises the model the edge read; it reads
nothing itself)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from funnel.orders.models import NOTE_LENGTH, ReturnRequest, ReturnStatus

MAX_UNITS = 10**9
MAX_ID = 2147483647
_STATUSES = [status.value for status in ReturnStatus]


class ReturnLineInputSchema(ma.Schema):
    order_line_id = ma.fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "The `id` of one of the order's lines"},
    )
    quantity = ma.fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_UNITS))


class ReturnInputSchema(ma.Schema):
    lines = ma.fields.List(
        ma.fields.Nested(ReturnLineInputSchema),
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Units of the order's lines to send back"},
    )
    reason = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=NOTE_LENGTH),
        metadata={"description": "Why the items go back"},
    )


class ReturnLineSchema(ma.Schema):
    order_line_id = ma.fields.Integer(required=True)
    sku = ma.fields.String(required=True)
    product_title = ma.fields.String(required=True)
    variant_label = ma.fields.String(required=True)
    quantity = ma.fields.Integer(required=True, metadata={"description": "Units to return"})
    restocked_quantity = ma.fields.Integer(
        required=True, metadata={"description": "Of them, back in stock once received"}
    )


class ReturnSchema(ma.Schema):
    number = ma.fields.String(required=True, metadata={"example": "FN-7K3QX9MD-R1"})
    order_number = ma.fields.String(required=True, metadata={"example": "FN-7K3QX9MD"})
    status = ma.fields.String(required=True, metadata={"enum": _STATUSES})
    status_label = ma.fields.String(required=True, metadata={"example": "Requested"})
    reason = ma.fields.String(required=True)
    staff_note = ma.fields.String(
        required=True, metadata={"description": "Staff's note to the customer (why rejected)"}
    )
    lines = ma.fields.List(ma.fields.Nested(ReturnLineSchema), required=True)
    refund_id = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The refund (of the order's `refunds`) that settled it"},
    )
    created_at = ma.fields.DateTime(required=True)
    decided_at = ma.fields.DateTime(required=True, allow_none=True)
    received_at = ma.fields.DateTime(required=True, allow_none=True)
    refunded_at = ma.fields.DateTime(required=True, allow_none=True)


class ReturnListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ReturnSchema), required=True)


def return_representation(item: ReturnRequest) -> dict[str, Any]:
    """A return with its lines (loaded by the query that read it)."""
    return {
        "number": item.number,
        "order_number": item.order.number,
        "status": item.status.value,
        "status_label": item.status_label,
        "reason": item.reason,
        "staff_note": item.staff_note,
        "lines": [
            {
                "order_line_id": line.order_line_id,
                "sku": line.order_line.sku,
                "product_title": line.order_line.product_title,
                "variant_label": line.order_line.variant_label,
                "quantity": line.quantity,
                "restocked_quantity": line.restocked_quantity,
            }
            for line in item.lines
        ],
        "refund_id": item.refund_id,
        "created_at": item.created_at,
        "decided_at": item.decided_at,
        "received_at": item.received_at,
        "refunded_at": item.refunded_at,
    }
