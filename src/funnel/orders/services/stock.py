"""Giving back the stock an order still holds (what its sales took minus what it returned)."""

from __future__ import annotations

from funnel.inventory import queries as inventory_queries
from funnel.inventory import services as inventory
from funnel.inventory.models import MovementReason
from funnel.orders.models import Order


def return_held_stock(
    order: Order, *, reason: MovementReason, actor_user_id: int | None, note: str
) -> dict[int, int]:
    """Return every unit the ledger says ``order`` still holds; ``{variant_id: units}``.

    Joins the caller's transaction. The ledger, not the order lines, is the measure: an order
    whose stock was never taken (or already given back) returns nothing, never too much.
    """
    held = {
        variant_id: units
        for variant_id, units in inventory_queries.order_net_quantities(order.number).items()
        if units > 0
    }
    if held:
        inventory.return_stock(
            order.number, held, reason=reason, actor_id=actor_user_id, note=note[:500]
        )
    return held
