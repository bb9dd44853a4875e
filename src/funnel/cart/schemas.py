"""API schemas of carts: input of lines, and the cart as a client sees it.

``CartSchema`` and ``cart_representation`` are shared with the checkout API: a cart reads the
same wherever it is returned. They serialise the cart's contents as the edge read them
(``cart.queries.cart_contents``: lines priced from the catalogue now); they read nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import marshmallow as ma
from flask import current_app
from marshmallow import validate

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
    """A line of the cart's contents (``cart.queries.CartLineView``), dumped as it is."""

    id = ma.fields.Integer(required=True, attribute="line_id")
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
        required=True,
        attribute="available",
        metadata={"description": "Units that can be bought now (may change)"},
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


class CartRead(Protocol):
    """What ``cart_representation`` serialises: a cart's contents as the cart's queries read
    them (``cart.queries.CartContents``): lines oldest first, each dumped by ``CartLineSchema``;
    no subtotal (None) when the cart is empty."""

    @property
    def cart_id(self) -> int: ...

    @property
    def lines(self) -> Sequence[Any]: ...

    @property
    def subtotal(self) -> Money | None: ...

    @property
    def item_count(self) -> int: ...

    @property
    def has_problems(self) -> bool: ...


def cart_representation(contents: CartRead) -> dict[str, Any]:
    """A ``CartSchema`` dict of the cart's contents; an empty cart's subtotal is zero."""
    currency = current_app.config["CURRENCY"]
    subtotal = contents.subtotal
    return {
        "id": contents.cart_id,
        "lines": contents.lines,
        "subtotal": subtotal if subtotal is not None else Money.zero(currency),
        "item_count": contents.item_count,
        "has_problems": contents.has_problems,
    }
