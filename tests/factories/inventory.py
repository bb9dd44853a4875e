"""Factories for the inventory domain.

``stocked_variant(stock)`` makes an active product with one variant holding ``stock`` units
(through the catalogue's services, as the shop does). ``StockReservationFactory`` inserts a
reservation row directly, for states the services would not make on their own (one that has
already expired).
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy import select

from funnel.catalog.models import Variant
from funnel.core import clock
from funnel.extensions import db
from funnel.inventory.models import StockReservation
from tests.factories.catalog import ProductFactory

_skus = itertools.count(1)


def stocked_variant(stock: int = 5, *, sku: str | None = None) -> Variant:
    """A variant of a new active product, with ``stock`` units and no stock movement yet."""
    sku = sku or f"INV-{next(_skus):05d}"
    product = ProductFactory(variants=[{"sku": sku, "stock_quantity": stock}])
    return db.session.scalars(select(Variant).where(Variant.product_id == product.id)).one()


class StockReservationFactory(SQLAlchemyModelFactory):
    class Meta:
        model = StockReservation
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"

    variant_id = factory.LazyFunction(lambda: stocked_variant().id)
    quantity = 1
    holder = factory.Sequence(lambda number: f"holder-{number}")
    expires_at = factory.LazyFunction(lambda: clock.utcnow() + timedelta(minutes=15))
