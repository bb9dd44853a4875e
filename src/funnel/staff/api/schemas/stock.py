"""Stock adjustments and levels."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from funnel.core.api import WholeNumber
from funnel.inventory.models import STAFF_REASONS
from funnel.staff.api.schemas.fields import MAX_STAFF_PAGE_SIZE, MAX_STOCK, NOTE_RULE, Text


class StockAdjustmentInputSchema(ma.Schema):
    """Either ``delta`` (signed change) or ``new_level`` (a count), not both."""

    delta = WholeNumber(
        validate=validate.Range(min=-MAX_STOCK, max=MAX_STOCK),
        metadata={"description": "Units to add (positive) or remove (negative)"},
    )
    new_level = WholeNumber(
        validate=validate.Range(min=0, max=MAX_STOCK),
        metadata={"description": "The level counted on the shelf"},
    )
    reason = ma.fields.String(
        required=True, validate=validate.OneOf(sorted(reason.value for reason in STAFF_REASONS))
    )
    note = Text(load_default="", validate=NOTE_RULE)


class StockMovementSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    quantity = ma.fields.Integer(required=True, metadata={"description": "Signed change"})
    reason = ma.fields.String(required=True)
    balance_after = ma.fields.Integer(required=True)
    actor_user_id = ma.fields.Integer(required=True, allow_none=True)
    order_reference = ma.fields.String(required=True, allow_none=True)
    note = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)


class StockLevelSchema(ma.Schema):
    variant_id = ma.fields.Integer(required=True)
    sku = ma.fields.String(required=True)
    on_hand = ma.fields.Integer(required=True)
    reserved = ma.fields.Integer(
        required=True, metadata={"description": "Held by checkouts in progress"}
    )
    available = ma.fields.Integer(required=True, metadata={"description": "On hand - reserved"})


class StockAdjustmentSchema(StockLevelSchema):
    movement = ma.fields.Nested(StockMovementSchema, required=True)


class VariantStockSchema(StockLevelSchema):
    movements = ma.fields.List(
        ma.fields.Nested(StockMovementSchema),
        required=True,
        metadata={"description": "The most recent movements, newest first"},
    )


class StockQuerySchema(ma.Schema):
    limit = ma.fields.Integer(
        load_default=20,
        validate=validate.Range(min=0, max=MAX_STAFF_PAGE_SIZE),
        metadata={"description": "How many recent movements (default 20)"},
    )
