"""Compare an imported catalogue file with the shop, then write the difference in bulk (US-17).

``plan_catalogue_import`` reads the file (``csv_import``), matches products by handle and
variants by SKU, refuses a SKU that belongs to another product, and works out what would
change: categories to create, products and variants to create or update, stock levels to set.
``apply_catalogue_plan`` writes it inside the caller's transaction with executemany inserts
and updates (the per-row services would take minutes for 10,000 rows), after the same checks
the services make, and keeps each product's denormalised columns in step as they do. It never
writes a stock level: it returns the levels the file asks for, which the inventory services
set through the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from funnel.catalog import queries
from funnel.catalog.errors import InvalidCatalogFile, RowError
from funnel.catalog.models import Product, Variant, VariantOptionValue
from funnel.catalog.services import csv_format as columns
from funnel.catalog.services.csv_import import (
    ProductRows,
    Progress,
    VariantRow,
    read_catalogue_file,
)
from funnel.catalog.services.rules import check_may_manage_catalog
from funnel.extensions import db

CHUNK = 500
PRODUCT_FIELDS = ("title", "description", "seo_title", "seo_description", "status")


@dataclass(frozen=True)
class StockChange:
    sku: str
    before: int
    after: int


@dataclass
class CataloguePlan:
    """What importing a file would change. ``*_variant_ids`` and the existing rows are the
    shop's as read when the plan was made (inside the import's own transaction)."""

    products: list[ProductRows]
    product_ids: dict[str, int] = field(default_factory=dict)  # existing, by handle
    category_ids: dict[tuple[str, ...], int] = field(default_factory=dict)  # by folded path
    new_categories: list[list[str]] = field(default_factory=list)  # paths, parents first
    created_products: list[ProductRows] = field(default_factory=list)
    updated_products: set[str] = field(default_factory=set)  # handles
    variant_ids: dict[str, int] = field(default_factory=dict)  # existing, by SKU
    created_variants: list[VariantRow] = field(default_factory=list)
    updated_variants: list[VariantRow] = field(default_factory=list)
    changed_options: set[str] = field(default_factory=set)  # SKUs
    stock_changes: list[StockChange] = field(default_factory=list)
    # The variants each existing product keeps, as (id, sku, price_amount, currency).
    kept_variants: dict[int, list[tuple[int, str, int, str]]] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(len(product.variants) for product in self.products)


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _folded(path: Iterable[str]) -> tuple[str, ...]:
    return tuple(name.casefold() for name in path)


def _resolve_categories(plan: CataloguePlan) -> None:
    """Match each path by name from the top (case-insensitively); note the missing tails."""
    tree = queries.category_tree()
    for category in tree.categories:
        path = [ancestor.name for ancestor in tree.ancestors(category)] + [category.name]
        plan.category_ids.setdefault(_folded(path), category.id)
    wanted: set[tuple[str, ...]] = set()
    for product in plan.products:
        for depth in range(1, len(product.category_path) + 1):
            path = product.category_path[:depth]
            key = _folded(path)
            if key not in plan.category_ids and key not in wanted:
                wanted.add(key)
                plan.new_categories.append(path)


def _read_existing(plan: CataloguePlan, errors: list[RowError]) -> dict[str, Any]:
    """The shop's products (by handle) and variants (by SKU) that the file names."""
    handles = [product.handle for product in plan.products]
    existing: dict[str, Any] = {}
    for chunk in _chunks(handles):
        for product in db.session.scalars(select(Product).where(Product.slug.in_(chunk))):
            existing[product.slug] = product
    plan.product_ids = {handle: product.id for handle, product in existing.items()}
    skus = [variant.sku for product in plan.products for variant in product.variants]
    variants: dict[str, Variant] = {}
    for chunk in _chunks(skus):
        for variant in db.session.scalars(select(Variant).where(Variant.sku.in_(chunk))):
            variants[variant.sku] = variant
    owners = _handles_of({variant.product_id for variant in variants.values()})
    for product in plan.products:
        for row in product.variants:
            variant = variants.get(row.sku)
            if variant is not None and variant.product_id != plan.product_ids.get(product.handle):
                errors.append(
                    RowError(
                        row.row,
                        columns.SKU,
                        f"{row.sku} is already used by the product {owners[variant.product_id]}.",
                    )
                )
    plan.variant_ids = {sku: variant.id for sku, variant in variants.items()}
    return {"products": existing, "variants": variants}


def _handles_of(product_ids: set[int]) -> dict[int, str]:
    handles: dict[int, str] = {}
    for chunk in _chunks(sorted(product_ids)):
        handles.update(
            db.session.execute(select(Product.id, Product.slug).where(Product.id.in_(chunk)))
            .tuples()
            .all()
        )
    return handles


def _options_of(variant_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    options: dict[int, list[tuple[str, str]]] = {}
    for chunk in _chunks(variant_ids):
        for variant_id, name, value in db.session.execute(
            select(VariantOptionValue.variant_id, VariantOptionValue.name, VariantOptionValue.value)
            .where(VariantOptionValue.variant_id.in_(chunk))
            .order_by(VariantOptionValue.position, VariantOptionValue.id)
        ).tuples():
            options.setdefault(variant_id, []).append((name, value))
    return options


def _kept_variants(product_ids: list[int]) -> dict[int, list[tuple[int, str, int, str]]]:
    kept: dict[int, list[tuple[int, str, int, str]]] = {}
    for chunk in _chunks(product_ids):
        for product_id, *variant in db.session.execute(
            select(
                Variant.product_id, Variant.id, Variant.sku, Variant.price_amount, Variant.currency
            )
            .where(Variant.product_id.in_(chunk))
            .order_by(Variant.id)
        ).tuples():
            kept.setdefault(product_id, []).append(tuple(variant))  # type: ignore[arg-type]
    return kept


def _compare(plan: CataloguePlan, existing: dict[str, Any]) -> None:
    variants: dict[str, Variant] = existing["variants"]
    options = _options_of(sorted(variant.id for variant in variants.values()))
    for product in plan.products:
        current: Product | None = existing["products"].get(product.handle)
        if current is None:
            plan.created_products.append(product)
        else:
            category_id = plan.category_ids.get(_folded(product.category_path))
            if category_id != current.category_id or any(
                getattr(product, name) != getattr(current, name) for name in PRODUCT_FIELDS
            ):
                plan.updated_products.add(product.handle)
        for row in product.variants:
            variant = variants.get(row.sku)
            if variant is None:
                plan.created_variants.append(row)
                if row.stock:
                    plan.stock_changes.append(StockChange(row.sku, 0, row.stock))
                continue
            if row.options != options.get(variant.id, []):
                plan.changed_options.add(row.sku)
            if (
                row.sku in plan.changed_options
                or row.title != variant.title
                or (row.price.amount, row.price.currency)
                != (variant.price_amount, variant.currency)
            ):
                plan.updated_variants.append(row)
                plan.updated_products.add(product.handle)
            if row.stock != variant.stock_quantity:
                plan.stock_changes.append(StockChange(row.sku, variant.stock_quantity, row.stock))
    touched = [plan.product_ids[handle] for handle in sorted(plan.updated_products)]
    plan.kept_variants = _kept_variants(sorted(touched))


def plan_catalogue_import(
    data: bytes, *, actor_user_id: int | None = None, progress: Progress | None = None
) -> CataloguePlan:
    """What importing ``data`` (a catalogue CSV) would change; writes nothing.

    Raises PermissionDenied (``catalog.manage``), InvalidCatalogFile (every error of the file,
    and SKUs that belong to another product).
    """
    check_may_manage_catalog(actor_user_id)
    plan = CataloguePlan(read_catalogue_file(data, progress))
    errors: list[RowError] = []
    existing = _read_existing(plan, errors)
    if errors:
        raise InvalidCatalogFile(errors)
    _resolve_categories(plan)
    _compare(plan, existing)
    return plan
