"""US-64 end to end: a guest who finds a product, buys it and pays through the test client
shows in the owner's funnel report at every stage, on the shop's day."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from funnel.accounts.models import User
from funnel.catalog.models import Product, Variant
from funnel.extensions import db
from tests.checkout.helpers import CARD_SUCCEEDS, add_to_cart, go_to_pay, orders, pay
from tests.factories.catalog import ProductFactory

pytestmark = pytest.mark.story("US-64")


def test_a_purchase_shows_in_the_funnel_from_visit_to_paid(
    client: FlaskClient, admin_user: User, signed_in: Any
) -> None:
    # given a shop with a mug in stock
    ProductFactory(
        title="Blue mug", variants=[{"sku": "MUG-1", "price": 1200, "stock_quantity": 5}]
    )
    product = db.session.scalars(select(Product)).one()
    variant = db.session.scalars(select(Variant).where(Variant.sku == "MUG-1")).one()

    # when a guest opens the shop, the mug's page, adds it to the cart and pays by card
    assert client.get("/").status_code == 200
    assert client.get(f"/p/{product.slug}").status_code == 200
    add_to_cart(client, variant, 1)
    token = go_to_pay(client)
    assert pay(client, token, CARD_SUCCEEDS).status_code == 303
    assert [order.status.value for order in orders()] == ["paid"]

    # then the owner's funnel of today (the default period) counts that guest at every stage
    body = signed_in(admin_user).get("/staff/reports/funnel").text
    for label in (
        "Visited the shop",
        "Viewed a product",
        "Added to cart",
        "Started checkout",
        "Tried to pay",
        "Paid an order",
    ):
        assert f'<th scope="row">{label}</th>\n      <td>1</td>' in body, label
    assert 'aria-label="Paid an order: 1 visitor"' in body
