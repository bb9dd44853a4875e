"""Checkout fixtures: a shop with a product in stock and a browser holding it in its cart."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from funnel.catalog.models import Variant
from funnel.extensions import db
from tests.checkout.helpers import add_to_cart
from tests.factories.catalog import ProductFactory


@pytest.fixture
def mug(app: Flask) -> Any:
    """A 12.00 mug with 5 in stock."""
    ProductFactory(
        title="Blue mug", variants=[{"sku": "MUG-1", "price": 1200, "stock_quantity": 5}]
    )
    return db.session.scalars(select(Variant).where(Variant.sku == "MUG-1")).one()


@pytest.fixture
def buyer(client: FlaskClient, mug: Any) -> FlaskClient:
    """A guest browser with 2 mugs in its cart."""
    add_to_cart(client, mug, 2)
    return client
