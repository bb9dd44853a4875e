"""Helpers of the carts (and checkout) API tests: carts made over the API, the carts' rows."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask.testing import FlaskClient

from funnel.cart.models import Cart, CartLine
from funnel.catalog.models import Product, Variant
from funnel.extensions import db
from tests.checkout.helpers import CARD_SUCCEEDS, expiry

CARTS = "/api/v1/carts"
CHECKOUTS = "/api/v1/checkouts"
ADDRESS = {
    "full_name": "Ann Smith",
    "line1": "1 High Street",
    "city": "Bristol",
    "postal_code": "BS1 4DJ",
    "country_code": "gb",
}


def secret_header(secret: str) -> dict[str, str]:
    return {"Cart-Secret": secret}


def guest_cart(client: FlaskClient) -> tuple[int, dict[str, str]]:
    """A new guest cart made over the API: its id and the header that opens it."""
    response = client.post(CARTS)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    return body["id"], secret_header(body["secret"])


def card(number: str = CARD_SUCCEEDS) -> dict[str, str]:
    return {"number": number, "expiry": expiry(), "cvc": "123"}


def checkout_body(cart_id: int, **changes: Any) -> dict[str, Any]:
    """A guest's ``POST /checkouts`` body for ``cart_id``, with ``changes``."""
    return {
        "cart_id": cart_id,
        "email": "ann@example.com",
        "shipping_address": ADDRESS,
        "shipping_method": "standard",
    } | changes


def cart_rows() -> list[tuple[int, int | None, str]]:
    """Every cart: (id, user id, token), by id."""
    rows = db.session.execute(sa.select(Cart.id, Cart.user_id, Cart.token).order_by(Cart.id))
    return [(row[0], row[1], row[2]) for row in rows]


def line_rows() -> list[tuple[int, int, int, int]]:
    """Every cart line: (id, cart id, variant id, quantity), by id."""
    rows = db.session.execute(
        sa.select(CartLine.id, CartLine.cart_id, CartLine.variant_id, CartLine.quantity).order_by(
            CartLine.id
        )
    )
    return [(row[0], row[1], row[2], row[3]) for row in rows]


def catalog_variants(product_id: int) -> list[Variant]:
    """A product's variants, by id."""
    return list(
        db.session.scalars(
            sa.select(Variant).where(Variant.product_id == product_id).order_by(Variant.id)
        )
    )


def usd(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": current_app.config["CURRENCY"]}


def expected_line(
    line_id: int,
    variant: Variant,
    quantity: int,
    *,
    available: int,
    label: str | None = None,
    problem: str | None = None,
) -> dict[str, Any]:
    """The API's line for ``quantity`` units of ``variant`` at its catalogue price."""
    product = db.session.get(Product, variant.product_id)
    assert product is not None
    return {
        "id": line_id,
        "variant_id": variant.id,
        "product_id": product.id,
        "product_slug": product.slug,
        "sku": variant.sku,
        "product_title": product.title,
        "variant_label": label if label is not None else (variant.title or variant.sku),
        "unit_price": usd(variant.price_amount),
        "quantity": quantity,
        "line_total": usd(variant.price_amount * quantity),
        "available_quantity": available,
        "problem": problem,
    }
