"""API schemas of carts: input of lines, the cart as a client sees it, and the dict it reads.

``CartSchema`` and ``cart_representation`` are shared with the checkout API: a cart reads the
same wherever it is returned. Lines are priced from the catalogue now (``cart_contents``).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from marshmallow import validate

from funnel.cart.queries import CartLineView, cart_contents
from funnel.core.api import MoneyField, PatchSchema, WholeNumber
from funnel.core.money import Money

# More units than any stock: the bound keeps absurd numbers out, stock decides the rest.
MAX_LINE_QUANTITY = 1_000_000


class CartLineInputSchema(ma.Schema):
    variant_id = WholeNumber(
        required=True,
        metadata={"description": "A product variant's id (GET /products/{slug})"},
    )
    quantity = WholeNumber(
        required=True,
        validate=validate.Range(min=1, max=MAX_LINE_QUANTITY),
        metadata={"description": "Units to add (a line of that variant grows by this much)"},
    )


class CartLineQuantitySchema(PatchSchema):
    quantity = WholeNumber(
        required=True,
        validate=validate.Range(min=1, max=MAX_LINE_QUANTITY),
        metadata={"description": "The line's new quantity (remove a line with DELETE)"},
    )


class CartLineSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    variant_id = ma.fields.Integer(required=True)
    product_id = ma.fields.Integer(required=True)
    product_slug = ma.fields.String(required=True)
    sku = ma.fields.String(required=True)
    product_title = ma.fields.String(required=True)
    variant_label = ma.fields.String(required=True, metadata={"example": "M / Red"})
    unit_price = MoneyField(required=True, metadata={"description": "Today's catalogue price"})
    quantity = ma.fields.Integer(required=True)
    line_total = MoneyField(required=True)
    available_quantity = ma.fields.Integer(
        required=True, metadata={"description": "Units that can be bought now (may change)"}
    )
    problem = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Why the line cannot be checked out as it is; null: it can"},
    )


class CartSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    lines = ma.fields.List(
        ma.fields.Nested(CartLineSchema), required=True, metadata={"description": "Oldest first"}
    )
    subtotal = MoneyField(
        required=True,
        metadata={"description": "Lines priced in the shop's currency; zero when empty"},
    )
    item_count = ma.fields.Integer(required=True, metadata={"description": "Units, all lines"})
    has_problems = ma.fields.Boolean(
        required=True, metadata={"description": "Some line needs attention before checkout"}
    )


class CreatedCartSchema(CartSchema):
    secret = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "A guest cart's secret: send it as the Cart-Secret header to use "
            "the cart. null for an account's cart (use the bearer token)."
        },
    )


def cart_representation(cart_id: int) -> dict[str, Any]:
    """A ``CartSchema`` dict of the cart, as ``cart_contents`` reads it now."""
    contents = cart_contents(cart_id)
    currency = current_app.config["CURRENCY"]
    subtotal = contents.subtotal
    return {
        "id": cart_id,
        "lines": [_line(line) for line in contents.lines],
        "subtotal": subtotal if subtotal is not None else Money.zero(currency),
        "item_count": contents.item_count,
        "has_problems": contents.has_problems,
    }


def _line(line: CartLineView) -> dict[str, Any]:
    return {
        "id": line.line_id,
        "variant_id": line.variant_id,
        "product_id": line.product_id,
        "product_slug": line.product_slug,
        "sku": line.sku,
        "product_title": line.product_title,
        "variant_label": line.variant_label,
        "unit_price": line.unit_price,
        "quantity": line.quantity,
        "line_total": line.line_total,
        "available_quantity": line.available,
        "problem": line.problem,
    }
