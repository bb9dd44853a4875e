"""Factories for the catalogue domain.

They build through the services, not by inserting rows, so that every product's denormalised
columns (``search_document``, ``min_price_amount``) are right and the full-text index follows.

``ProductFactory(variants=[...])`` takes variant dicts (``sku``, ``price`` in minor units,
``stock_quantity``, ``options``, ``title``); by default a product gets one variant. A product is
made active after its variants are added (``status=ProductStatus.DRAFT`` keeps it a draft).
"""

from __future__ import annotations

import io
from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory
from flask import current_app
from PIL import Image

from funnel.catalog import services
from funnel.catalog.models import Category, Product, ProductStatus
from funnel.core.money import Money
from funnel.extensions import db


class CategoryFactory(SQLAlchemyModelFactory):
    class Meta:
        model = Category
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"

    name = factory.Sequence(lambda number: f"Category {number}")
    parent_id = None
    description = ""
    position = 0

    @classmethod
    def _create(cls, model_class: type[Category], *args: Any, **kwargs: Any) -> Category:
        return services.create_category(**kwargs)


class ProductFactory(SQLAlchemyModelFactory):
    class Meta:
        model = Product
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"

    title = factory.Sequence(lambda number: f"Product {number}")
    category_id = factory.LazyFunction(lambda: CategoryFactory().id)
    description = "A fine thing, well made."
    seo_title = ""
    seo_description = ""
    is_featured = False
    status = ProductStatus.ACTIVE
    variants = factory.Sequence(
        lambda number: [{"sku": f"SKU-{number:05d}", "price": 1000, "stock_quantity": 5}]
    )

    @classmethod
    def _create(cls, model_class: type[Product], *args: Any, **kwargs: Any) -> Product:
        variants = kwargs.pop("variants")
        status = kwargs.pop("status")
        product = services.create_product(**kwargs)
        currency = current_app.config["CURRENCY"]
        for variant in variants:
            services.add_variant(
                product.id,
                sku=variant["sku"],
                price=Money(variant.get("price", 1000), currency),
                stock_quantity=variant.get("stock_quantity", 5),
                title=variant.get("title", ""),
                options=variant.get("options"),
            )
        if status is not ProductStatus.DRAFT:
            services.update_product(product.id, status=status)
        return product


def image_bytes(image_format: str = "PNG", size: tuple[int, int] = (1200, 900)) -> bytes:
    """A real image file of ``size`` in ``image_format`` (PNG, JPEG, WEBP, GIF...)."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, image_format)
    return buffer.getvalue()
