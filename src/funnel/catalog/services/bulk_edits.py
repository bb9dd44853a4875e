"""Bulk edits of products chosen by staff in the product list: publish, archive, move.

Each edit is one transaction over all the chosen products: it applies to every one of them or
to none, and so do its audit entries (one per product changed, ``product.bulk_publish``...).
Every product goes through ``update_product``, so the rules (a product needs a variant to be
active, the category must exist) are the single product's rules.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from sqlalchemy import select

from funnel.catalog.errors import InvalidCatalogInput, ProductHasNoVariants, ProductNotFound
from funnel.catalog.models import Product, ProductStatus
from funnel.catalog.services.auditing import product_fields, record_changed
from funnel.catalog.services.products import update_product
from funnel.catalog.services.rules import _get_category, check_may_manage_catalog
from funnel.core.database import transaction
from funnel.extensions import db

MAX_PRODUCTS_PER_EDIT = 200
_NAMES_SHOWN = 5


class BulkAction(enum.StrEnum):
    PUBLISH = "publish"
    ARCHIVE = "archive"
    MOVE = "move"


def edit_products(
    product_ids: Iterable[int],
    action: BulkAction | str,
    *,
    category_id: int | None = None,
    actor_user_id: int | None = None,
) -> int:
    """Publish, archive or move (to ``category_id``) the given products, all or none.

    Returns how many products changed (those already so are left as they are). Raises
    PermissionDenied, InvalidCatalogInput (no product chosen, too many, an unknown action,
    ``move`` without a category), CategoryNotFound, ProductNotFound (a chosen product no
    longer exists), ProductHasNoVariants (publishing products without variants: they are
    named, and nothing changes).
    """
    with transaction():
        check_may_manage_catalog(actor_user_id)
        action = _checked_action(action)
        ids = sorted(set(product_ids))
        if not ids:
            raise InvalidCatalogInput(fields={"product_ids": ["Select at least one product."]})
        if len(ids) > MAX_PRODUCTS_PER_EDIT:
            raise InvalidCatalogInput(
                fields={"product_ids": [f"Select at most {MAX_PRODUCTS_PER_EDIT} products."]}
            )
        if action is BulkAction.MOVE:
            if category_id is None:
                raise InvalidCatalogInput(
                    fields={"category_id": ["Choose the category to move them to."]}
                )
            _get_category(category_id)
        products = list(
            db.session.scalars(
                select(Product).where(Product.id.in_(ids)).order_by(Product.id).with_for_update()
            )
        )
        if len(products) != len(ids):
            missing = len(ids) - len(products)
            raise ProductNotFound(
                f"{missing} of the selected products no longer exist{'s' if missing == 1 else ''}."
            )
        status = ProductStatus.ACTIVE if action is BulkAction.PUBLISH else ProductStatus.ARCHIVED
        changed = 0
        refused: list[str] = []
        for product in products:
            before = product_fields(product)
            if action is BulkAction.MOVE:
                if product.category_id == category_id:
                    continue
                update_product(product.id, category_id=category_id)
            elif product.status == status:
                continue
            else:
                try:
                    update_product(product.id, status=status)
                except ProductHasNoVariants:
                    refused.append(product.title)
                    continue
            changed += 1
            # One entry per product changed, named for the bulk action (a refusal rolls all
            # of them back with the changes).
            record_changed(
                "product",
                product.id,
                product.title,
                before,
                product_fields(product),
                actor_user_id,
                action=f"bulk_{action.value}",
            )
        if refused:
            raise ProductHasNoVariants(_refusal(refused))
        return changed


def _checked_action(action: BulkAction | str) -> BulkAction:
    try:
        return BulkAction(action)
    except ValueError:
        raise InvalidCatalogInput(
            fields={"action": ["Choose publish, archive or move to a category."]}
        ) from None


def _refusal(titles: list[str]) -> str:
    shown = ", ".join(titles[:_NAMES_SHOWN])
    more = f" and {len(titles) - _NAMES_SHOWN} more" if len(titles) > _NAMES_SHOWN else ""
    verb = "has" if len(titles) == 1 else "have"
    return f"Nothing was published: {shown}{more} {verb} no variant yet."
