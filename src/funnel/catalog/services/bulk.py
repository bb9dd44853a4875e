"""Bulk loading of many products at once (demo data, imports): Core-style executemany inserts.

The unit of work is too slow for 100,000 products, so rows are inserted in batches with
``session.execute(insert(Model), rows)``. Each batch is one transaction. Rows whose slug or
SKU already exists are skipped, so loading the same data twice adds nothing. Denormalised
columns (``search_document``, ``min_price_amount``) are computed here exactly as the services
compute them, the full-text index follows by itself (triggers on SQLite, the index on the
other databases), and the products' words join the search vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select

from funnel.catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductStatus,
    Variant,
    VariantOptionValue,
)
from funnel.catalog.services.rules import build_search_document
from funnel.catalog.services.vocabulary import remember_words
from funnel.core.database import transaction
from funnel.extensions import db


@dataclass(frozen=True)
class CategorySpec:
    slug: str
    name: str
    parent_slug: str | None = None
    description: str = ""
    position: int = 0


@dataclass(frozen=True)
class VariantSpec:
    sku: str
    price_amount: int
    stock_quantity: int
    title: str = ""
    options: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class ImageSpec:
    filename: str
    alt_text: str
    width: int
    height: int


@dataclass(frozen=True)
class ProductSpec:
    slug: str
    title: str
    category_slug: str
    description: str
    currency: str
    created_at: datetime
    variants: Sequence[VariantSpec]
    images: Sequence[ImageSpec] = ()
    status: ProductStatus = ProductStatus.ACTIVE
    is_featured: bool = False
    seo_title: str = ""
    seo_description: str = ""


def ensure_categories(specs: Sequence[CategorySpec]) -> dict[str, int]:
    """Create the categories that do not exist yet (parents before children).

    Returns the id of every category slug given. Side effects: one transaction.
    """
    with transaction():
        ids = dict(
            db.session.execute(
                select(Category.slug, Category.id).where(
                    Category.slug.in_([spec.slug for spec in specs])
                )
            ).all()
        )
        for spec in specs:
            if spec.slug in ids:
                continue
            parent_id = ids[spec.parent_slug] if spec.parent_slug else None
            ids[spec.slug] = db.session.execute(
                insert(Category).returning(Category.id),
                [
                    {
                        "slug": spec.slug,
                        "name": spec.name,
                        "parent_id": parent_id,
                        "description": spec.description,
                        "position": spec.position,
                    }
                ],
            ).scalar_one()
        return ids


def insert_products(specs: Sequence[ProductSpec], category_ids: dict[str, int]) -> int:
    """Insert one batch of products with their variants, option values and images.

    Products whose slug, or any of whose SKUs, already exists are skipped. Returns how many
    products were inserted. Side effects: one transaction.
    """
    with transaction():
        slugs = [spec.slug for spec in specs]
        skus = [variant.sku for spec in specs for variant in spec.variants]
        existing_slugs = set(
            db.session.scalars(select(Product.slug).where(Product.slug.in_(slugs)))
        )
        existing_skus = set(db.session.scalars(select(Variant.sku).where(Variant.sku.in_(skus))))
        fresh = [
            spec
            for spec in specs
            if spec.slug not in existing_slugs
            and not any(variant.sku in existing_skus for variant in spec.variants)
        ]
        if not fresh:
            return 0
        product_rows = [
            {
                "category_id": category_ids[spec.category_slug],
                "title": spec.title,
                "slug": spec.slug,
                "description": spec.description,
                "status": spec.status,
                "seo_title": spec.seo_title,
                "seo_description": spec.seo_description,
                "is_featured": spec.is_featured,
                "min_price_amount": min(
                    (variant.price_amount for variant in spec.variants), default=0
                ),
                "currency": spec.currency,
                "search_document": build_search_document(
                    spec.title, spec.description, [variant.sku for variant in spec.variants]
                ),
                "created_at": spec.created_at,
                "updated_at": spec.created_at,
            }
            for spec in fresh
        ]
        product_ids = db.session.scalars(
            insert(Product).returning(Product.id, sort_by_parameter_order=True), product_rows
        ).all()

        variant_rows = []
        image_rows = []
        for spec, product_id in zip(fresh, product_ids, strict=True):
            for position, variant in enumerate(spec.variants):
                variant_rows.append(
                    {
                        "product_id": product_id,
                        "sku": variant.sku,
                        "title": variant.title,
                        "price_amount": variant.price_amount,
                        "currency": spec.currency,
                        "stock_quantity": variant.stock_quantity,
                        "position": position,
                        "created_at": spec.created_at,
                    }
                )
            for position, image in enumerate(spec.images):
                image_rows.append(
                    {
                        "product_id": product_id,
                        "filename": image.filename,
                        "alt_text": image.alt_text,
                        "position": position,
                        "width": image.width,
                        "height": image.height,
                    }
                )
        variant_ids = db.session.scalars(
            insert(Variant).returning(Variant.id, sort_by_parameter_order=True), variant_rows
        ).all()
        all_variants = [variant for spec in fresh for variant in spec.variants]
        option_rows = [
            {"variant_id": variant_id, "name": name, "value": value, "position": position}
            for variant, variant_id in zip(all_variants, variant_ids, strict=True)
            for position, (name, value) in enumerate(variant.options)
        ]
        if option_rows:
            db.session.execute(insert(VariantOptionValue), option_rows)
        if image_rows:
            db.session.execute(insert(ProductImage), image_rows)
        remember_words(text for spec in fresh for text in (spec.title, spec.description))
        return len(fresh)
