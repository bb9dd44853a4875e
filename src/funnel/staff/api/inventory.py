"""Staff stock operations (permission ``inventory.adjust``): a variant's levels and ledger,
and stock adjustments, each written to the ledger with who, why and the level it left."""

from __future__ import annotations

from typing import Any

from funnel.accounts.permissions import Permission
from funnel.core.api import errors
from funnel.inventory import queries
from funnel.inventory import services as inventory
from funnel.inventory.models import StockMovement
from funnel.staff.api import VARIANT_ID, bp
from funnel.staff.api.access import staff_caller, staff_permission
from funnel.staff.api.schemas.stock import (
    StockAdjustmentInputSchema,
    StockAdjustmentSchema,
    StockQuerySchema,
    VariantStockSchema,
)

ADJUST = Permission.INVENTORY_ADJUST


@bp.route(f"/variants/{VARIANT_ID}/stock", methods=["GET"])
@bp.response(200, VariantStockSchema)
@errors(bp, 404, 422)
@staff_permission(bp, ADJUST)
@bp.arguments(StockQuerySchema, location="query", as_kwargs=True)
def get_variant_stock(variant_id: int, limit: int) -> dict[str, Any]:
    """A variant's stock: on hand, reserved by checkouts, available, and recent movements

    Movements are newest first (`limit`, default 20, at most 100). Needs `inventory.adjust`.
    """
    stock = queries.variant_stock(variant_id, movement_limit=limit)
    return {**_levels(stock), "movements": [_movement(m) for m in stock.movements]}


@bp.route(f"/variants/{VARIANT_ID}/stock-adjustments", methods=["POST"])
@bp.response(201, StockAdjustmentSchema)
@errors(bp, 400, 404, 409, 413, 422)
@staff_permission(bp, ADJUST)
@bp.arguments(StockAdjustmentInputSchema)
def adjust_variant_stock(data: dict[str, Any], variant_id: int) -> dict[str, Any]:
    """Change a variant's stock by `delta`, or set it to a counted `new_level`

    Send exactly one of `delta` and `new_level` (422 `invalid_stock_quantity` otherwise), and
    a `reason`: received, counted, damaged, returned, adjustment or correction. Stock never
    goes below zero: a larger decrement is 409 `out_of_stock` and changes nothing. The answer
    holds the new levels and the ledger movement written. Needs `inventory.adjust`.
    """
    movement = inventory.adjust_stock(
        variant_id,
        reason=data["reason"],
        delta=data.get("delta"),
        new_level=data.get("new_level"),
        note=data["note"],
        actor_id=staff_caller().id,
    )
    stock = queries.variant_stock(variant_id, movement_limit=0)
    return {**_levels(stock), "movement": _movement(movement)}


def _levels(stock: queries.VariantStock) -> dict[str, Any]:
    return {
        "variant_id": stock.variant_id,
        "sku": stock.sku,
        "on_hand": stock.on_hand,
        "reserved": stock.reserved,
        "available": stock.available,
    }


def _movement(movement: StockMovement) -> dict[str, Any]:
    return {
        "id": movement.id,
        "quantity": movement.quantity,
        "reason": movement.reason.value,
        "balance_after": movement.balance_after,
        "actor_user_id": movement.actor_id,
        "order_reference": movement.order_reference,
        "note": movement.note,
        "created_at": movement.created_at,
    }
