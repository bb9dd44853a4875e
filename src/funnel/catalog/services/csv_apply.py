"""Write a catalogue import's plan (``csv_plan``) in bulk, inside the caller's transaction.

Missing categories are made by ``create_category`` (a handful per file); products, variants
and option values by executemany inserts and primary-key updates, the way the demo loader
(``bulk.py``) inserts, because the per-row services would take minutes for 10,000 rows. Every
value was checked by the services' own rules when the file was read, SKUs against the shop
when the plan was made, and the denormalised columns are computed by the function
``refresh_product`` uses. Stock is not written here: the returned levels go to the ledger.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, update

from funnel.catalog.models import Product, Variant, VariantOptionValue
from funnel.catalog.services.categories import create_category
from funnel.catalog.services.csv_import import Progress
from funnel.catalog.services.csv_plan import CataloguePlan, _chunks, _folded
from funnel.catalog.services.rules import check_may_manage_catalog, denormalised_columns
from funnel.catalog.services.vocabulary import remember_words
from funnel.core.database import transaction
from funnel.core.models import now
from funnel.extensions import db


def _create_categories(plan: CataloguePlan, actor_user_id: int | None) -> None:
    for path in plan.new_categories:
        parent_id = plan.category_ids.get(_folded(path[:-1])) if len(path) > 1 else None
        category = create_category(
            path[-1], parent_id=parent_id, position=None, actor_user_id=actor_user_id
        )
        plan.category_ids[_folded(path)] = category.id


def _insert_products(plan: CataloguePlan) -> None:
    moment = now()
    for chunk in _chunks(plan.created_products):
        rows = [
            {
                "category_id": plan.category_ids[_folded(product.category_path)],
                "title": product.title,
                "slug": product.handle,
                "description": product.description,
                "status": product.status,
                "seo_title": product.seo_title,
                "seo_description": product.seo_description,
                "is_featured": False,
                "created_at": moment,
                "updated_at": moment,
                **denormalised_columns(product.title, product.description, []),
            }
            for product in chunk
        ]
        ids = db.session.scalars(
            insert(Product).returning(Product.id, sort_by_parameter_order=True), rows
        ).all()
        plan.product_ids.update(
            (product.handle, product_id) for product, product_id in zip(chunk, ids, strict=True)
        )


def _write_variants(plan: CataloguePlan) -> None:
    """Insert the new variants (stock 0), update the changed ones, replace changed options."""
    product_of = {
        variant.sku: plan.product_ids[product.handle]
        for product in plan.products
        for variant in product.variants
    }
    positions = {product_id: len(kept) for product_id, kept in plan.kept_variants.items()}
    moment = now()
    for chunk in _chunks(plan.created_variants):
        rows = []
        for variant in chunk:
            product_id = product_of[variant.sku]
            position = positions.get(product_id, 0)
            positions[product_id] = position + 1
            rows.append(
                {
                    "product_id": product_id,
                    "sku": variant.sku,
                    "title": variant.title,
                    "price_amount": variant.price.amount,
                    "currency": variant.price.currency,
                    "stock_quantity": 0,
                    "position": position,
                    "created_at": moment,
                }
            )
        ids = db.session.scalars(
            insert(Variant).returning(Variant.id, sort_by_parameter_order=True), rows
        ).all()
        plan.variant_ids.update(
            (variant.sku, variant_id) for variant, variant_id in zip(chunk, ids, strict=True)
        )
    updates = [
        {
            "id": plan.variant_ids[variant.sku],
            "title": variant.title,
            "price_amount": variant.price.amount,
            "currency": variant.price.currency,
        }
        for variant in plan.updated_variants
    ]
    for chunk in _chunks(updates):
        db.session.execute(update(Variant), list(chunk))
    replaced = sorted(plan.variant_ids[sku] for sku in plan.changed_options)
    for chunk in _chunks(replaced):
        db.session.execute(
            delete(VariantOptionValue).where(VariantOptionValue.variant_id.in_(chunk)),
            execution_options={"synchronize_session": False},
        )
    fresh = {variant.sku for variant in plan.created_variants} | plan.changed_options
    option_rows = [
        {"variant_id": plan.variant_ids[variant.sku], "name": name, "value": value, "position": i}
        for product in plan.products
        for variant in product.variants
        if variant.sku in fresh
        for i, (name, value) in enumerate(variant.options)
    ]
    for chunk in _chunks(option_rows):
        db.session.execute(insert(VariantOptionValue), list(chunk))


def _refresh_products(plan: CataloguePlan) -> None:
    """Write the changed products' fields and every touched product's denormalised columns."""
    touched = plan.updated_products | {
        product.handle for product in plan.created_products if product.variants
    }
    moment = now()
    updates: list[dict[str, Any]] = []
    for product in plan.products:
        if product.handle not in touched:
            continue
        product_id = plan.product_ids[product.handle]
        in_file = {variant.sku: variant for variant in product.variants}
        variants = [
            (
                variant_id,
                sku,
                *(
                    (in_file[sku].price.amount, in_file[sku].price.currency)
                    if sku in in_file
                    else (amount, currency)
                ),
            )
            for variant_id, sku, amount, currency in plan.kept_variants.get(product_id, [])
        ]
        known = {sku for _, sku, _, _ in variants}
        variants += [
            (plan.variant_ids[sku], sku, variant.price.amount, variant.price.currency)
            for sku, variant in in_file.items()
            if sku not in known
        ]
        variants.sort()
        updates.append(
            {
                "id": product_id,
                "title": product.title,
                "description": product.description,
                "seo_title": product.seo_title,
                "seo_description": product.seo_description,
                "status": product.status,
                "category_id": plan.category_ids[_folded(product.category_path)],
                "updated_at": moment,
                **denormalised_columns(
                    product.title, product.description, [variant[1:] for variant in variants]
                ),
            }
        )
    for chunk in _chunks(updates):
        db.session.execute(update(Product), list(chunk))


def apply_catalogue_plan(
    plan: CataloguePlan, *, actor_user_id: int | None = None, progress: Progress | None = None
) -> dict[int, int]:
    """Create and update what ``plan`` says, in the caller's transaction (or its own).

    Returns the stock level the file asks for, by variant id, for each variant whose level
    differs: the caller sets them through the inventory ledger. Raises PermissionDenied and
    the errors of ``create_category``. Side effects: categories, products, variants and
    option values written; the full-text index and the search vocabulary follow.
    """
    with transaction():
        check_may_manage_catalog(actor_user_id)
        _create_categories(plan, actor_user_id)
        _insert_products(plan)
        if progress:
            progress("Writing products", 1, 3)
        _write_variants(plan)
        if progress:
            progress("Writing products", 2, 3)
        _refresh_products(plan)
        remember_words(
            text for product in plan.products for text in (product.title, product.description)
        )
        if progress:
            progress("Writing products", 3, 3)
        return {plan.variant_ids[change.sku]: change.after for change in plan.stock_changes}
