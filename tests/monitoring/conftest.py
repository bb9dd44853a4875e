"""Monitoring fixtures: a shop with a mug in stock, and a browser that is counted."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from funnel.catalog.models import Variant
from funnel.extensions import db
from tests.factories.catalog import ProductFactory

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture
def mug(app: Flask) -> Any:
    """A 12.00 mug with 5 in stock."""
    ProductFactory(
        title="Blue mug", variants=[{"sku": "MUG-1", "price": 1200, "stock_quantity": 5}]
    )
    return db.session.scalars(select(Variant).where(Variant.sku == "MUG-1")).one()


@pytest.fixture
def shopper(app: Flask) -> FlaskClient:
    """A browser the sales funnel counts (a browser's User-Agent, no Do Not Track)."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = BROWSER
    return client
