"""Shipments: which lines leave, with which carrier and tracking."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from funnel.orders.carriers import CARRIERS, OTHER
from funnel.orders.models import CARRIER_NAME_LENGTH, TRACKING_NUMBER_LENGTH, TRACKING_URL_LENGTH
from funnel.staff.api.schemas.fields import ID_RANGE, MAX_STOCK, NOTE_RULE, Text
from funnel.staff.api.schemas.orders import StaffOrderSchema, StaffShipmentSchema


class ShipmentLineInputSchema(ma.Schema):
    order_line_id = ma.fields.Integer(required=True, validate=ID_RANGE)
    quantity = ma.fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_STOCK))


class ShipmentInputSchema(ma.Schema):
    lines = ma.fields.List(
        ma.fields.Nested(ShipmentLineInputSchema),
        allow_none=True,
        load_default=None,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "What goes in the parcel; absent or null: all left to ship"},
    )
    carrier = ma.fields.String(
        required=True,
        validate=validate.OneOf(list(CARRIERS)),
        metadata={"description": f"A known carrier's code, or {OTHER} (name it)"},
    )
    carrier_name = Text(
        load_default="",
        validate=validate.Length(max=CARRIER_NAME_LENGTH),
        metadata={"description": f"{OTHER} only: the carrier's name (required)"},
    )
    tracking_number = Text(
        load_default="",
        validate=validate.Length(max=TRACKING_NUMBER_LENGTH),
        metadata={"description": "Letters, digits, spaces and dashes"},
    )
    tracking_url = Text(
        load_default="",
        validate=validate.Length(max=TRACKING_URL_LENGTH),
        metadata={
            "description": f"{OTHER} only: the tracking link (a known carrier's is built "
            "from the number)"
        },
    )
    note = Text(load_default="", validate=NOTE_RULE)


class ShipmentResultSchema(ma.Schema):
    changed = ma.fields.Boolean(
        required=True,
        metadata={"description": "false: this request's shipment was already recorded"},
    )
    shipment = ma.fields.Nested(StaffShipmentSchema, required=True)
    order = ma.fields.Nested(StaffOrderSchema, required=True)
