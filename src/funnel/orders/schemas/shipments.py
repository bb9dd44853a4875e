"""The parcels of an order as the API shows them: what went in each, by which carrier, and the
link to follow it."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from funnel.orders.carriers import CARRIERS
from funnel.orders.models import Shipment


class ShipmentLineSchema(ma.Schema):
    order_line_id = ma.fields.Integer(required=True)
    sku = ma.fields.String(required=True)
    product_title = ma.fields.String(required=True)
    variant_label = ma.fields.String(required=True)
    quantity = ma.fields.Integer(required=True, metadata={"description": "Units in this parcel"})


class ShipmentSchema(ma.Schema):
    """One parcel: what went in it, by which carrier, and the link to follow it."""

    id = ma.fields.Integer(required=True)
    shipped_at = ma.fields.DateTime(required=True)
    carrier = ma.fields.String(
        required=True, metadata={"enum": list(CARRIERS), "description": "The carrier's code"}
    )
    carrier_name = ma.fields.String(
        required=True, metadata={"description": "The carrier in words; empty: not recorded"}
    )
    tracking_number = ma.fields.String(required=True, metadata={"description": "Empty: none"})
    tracking_url = ma.fields.String(required=True, allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(ShipmentLineSchema), required=True)


def shipment_representation(shipment: Shipment) -> dict[str, Any]:
    """A ``ShipmentSchema`` dict (the shipment's lines and their order lines loaded)."""
    return {
        "id": shipment.id,
        "shipped_at": shipment.shipped_at,
        "carrier": shipment.carrier,
        "carrier_name": shipment.carrier_name,
        "tracking_number": shipment.tracking_number,
        "tracking_url": shipment.tracking_url,
        "lines": [
            {
                "order_line_id": item.order_line_id,
                "sku": item.order_line.sku,
                "product_title": item.order_line.product_title,
                "variant_label": item.order_line.variant_label,
                "quantity": item.quantity,
            }
            for item in shipment.lines
        ],
    }
