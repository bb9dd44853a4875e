"""A customer's cancellation over the API: why, and the order as it is after."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from funnel.orders.schemas import OrderSchema


class OrderCancelInputSchema(ma.Schema):
    reason = ma.fields.String(
        load_default="",
        validate=validate.Length(max=300),
        metadata={"description": "Why, if the customer wants to say (optional)"},
    )


class OrderCancelSchema(ma.Schema):
    changed = ma.fields.Boolean(
        required=True, metadata={"description": "false: the order was already cancelled"}
    )
    order = ma.fields.Nested(OrderSchema, required=True)
