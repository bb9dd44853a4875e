"""Export the catalogue as CSV (US-17): every product and variant, with its stock on hand.

The file is read in a fixed number of statements per chunk of products (categories once, then
products, their variants and their option values), so a large catalogue exports in seconds.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from funnel.catalog import queries
from funnel.catalog.models import Product, Variant, VariantOptionValue
from funnel.catalog.services.csv_format import format_category_path, format_options, write_csv
from funnel.catalog.services.rules import check_may_manage_catalog
from funnel.core.money import Money, exponent
from funnel.extensions import db

CHUNK = 500


def format_price(amount: int, currency: str) -> str:
    """Minor units as the decimal staff type: ``1250`` USD -> ``"12.50"``."""
    return f"{Money(amount, currency).to_decimal():.{exponent(currency)}f}"


def category_paths() -> dict[int, str]:
    """Every category's path from the top (``"Clothing > Shirts"``), by id."""
    tree = queries.category_tree()
    return {
        category.id: format_category_path(
            [ancestor.name for ancestor in tree.ancestors(category)] + [category.name]
        )
        for category in tree.categories
    }


def catalogue_rows() -> Iterator[list[str]]:
    """One row per variant (products by id, variants in their order), unescaped."""
    paths = category_paths()
    last_id = 0
    while True:
        products = db.session.scalars(
            select(Product).where(Product.id > last_id).order_by(Product.id).limit(CHUNK)
        ).all()
        if not products:
            return
        last_id = products[-1].id
        ids = [product.id for product in products]
        variants = db.session.scalars(
            select(Variant)
            .where(Variant.product_id.in_(ids))
            .order_by(Variant.product_id, Variant.position, Variant.id)
        ).all()
        options: dict[int, list[tuple[str, str]]] = {}
        for variant_id, name, value in db.session.execute(
            select(VariantOptionValue.variant_id, VariantOptionValue.name, VariantOptionValue.value)
            .join(Variant, Variant.id == VariantOptionValue.variant_id)
            .where(Variant.product_id.in_(ids))
            .order_by(VariantOptionValue.position, VariantOptionValue.id)
        ).tuples():
            options.setdefault(variant_id, []).append((name, value))
        by_product: dict[int, list[Variant]] = {}
        for variant in variants:
            by_product.setdefault(variant.product_id, []).append(variant)
        for product in products:
            for variant in by_product.get(product.id, []):
                yield [
                    product.slug,
                    product.title,
                    product.description,
                    product.seo_title,
                    product.seo_description,
                    paths.get(product.category_id, ""),
                    product.status.value,
                    variant.sku,
                    variant.title,
                    format_options(options.get(variant.id, [])),
                    format_price(variant.price_amount, variant.currency),
                    str(variant.stock_quantity),
                ]


def export_catalogue_csv(*, actor_user_id: int | None = None) -> Iterator[str]:
    """The catalogue as CSV text, chunk by chunk (UTF-8 with a byte order mark when encoded).

    A product without variants has no row (there is nothing to sell yet). ``actor_user_id``
    is the staff member asking (None: the system). Raises PermissionDenied (checked before
    the first chunk). Writes nothing.
    """
    check_may_manage_catalog(actor_user_id)
    return write_csv(catalogue_rows())
