"""Low-stock thresholds: the level of available units at which staff are told to restock."""

from __future__ import annotations

from sqlalchemy import select, update

from funnel.audit import services as audit
from funnel.catalog.errors import VariantNotFound
from funnel.catalog.models import Variant
from funnel.core.database import transaction
from funnel.extensions import db
from funnel.inventory.errors import InvalidStockQuantity
from funnel.inventory.services.ledger import MAX_STOCK, check_staff_permission


def set_low_stock_threshold(
    variant_id: int, threshold: int | None, *, actor_id: int | None = None
) -> None:
    """Give a variant its own low-stock threshold, or None to follow the shop's default.

    The variant is low on stock when its available units (on hand minus reserved) are at or
    below the threshold. Raises PermissionDenied (``actor_id`` without ``inventory.adjust``),
    InvalidStockQuantity (not a whole number from 0), VariantNotFound. Side effects: updates
    ``variants.low_stock_threshold`` only (the stock itself is untouched).
    """
    check_staff_permission(actor_id)
    if threshold is not None and (
        isinstance(threshold, bool)
        or not isinstance(threshold, int)
        or not 0 <= threshold <= MAX_STOCK
    ):
        raise InvalidStockQuantity(
            fields={"threshold": [f"Must be a whole number from 0 to {MAX_STOCK}, or blank."]}
        )
    with transaction():
        found = db.session.execute(
            select(Variant.sku, Variant.low_stock_threshold).where(Variant.id == variant_id)
        ).one_or_none()
        result = db.session.execute(
            update(Variant)
            .where(Variant.id == variant_id)
            .values(low_stock_threshold=threshold)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise VariantNotFound()
        assert found is not None
        sku, before = found
        if before != threshold:
            audit.record(
                "stock.threshold_changed",
                actor_user_id=actor_id,
                object_type="stock",
                object_id=variant_id,
                object_label=sku,
                before={"low_stock_threshold": before},
                after={"low_stock_threshold": threshold},
            )
