"""Stock counts in bulk: set many variants' levels at once, through the ledger (US-17).

``adjust_stock`` sets one variant's level; a catalogue import may set thousands. This does the
same per variant (same permission, reason, note and quantity checks; rows locked in ascending
id order; one conditional update and one ledger row per changed variant, with the opening
balance the first time) in a few statements per chunk. A variant already at its level is left
alone: no zero movement, so importing an unchanged file writes no ledger row.
"""

from __future__ import annotations

from collections.abc import Mapping

from funnel.inventory.models import STAFF_REASONS, MovementReason, StockMovement
from funnel.inventory.services.ledger import (
    _checked_note,
    _checked_reason,
    apply_movements,
    check_staff_permission,
    checked_quantity,
    lock_variants,
    stock_transaction,
)

CHUNK = 500


def set_stock_levels(
    levels: Mapping[int, int],
    *,
    reason: MovementReason | str = MovementReason.COUNTED,
    note: str = "",
    actor_id: int | None = None,
) -> list[StockMovement]:
    """Set each variant's stock to its level (``{variant_id: units}``), as a staff count.

    ``reason`` is one of the staff reasons (counted, correction...). Returns the movements of
    the variants that changed, in id order. Raises PermissionDenied (``actor_id`` without
    ``inventory.adjust``), InvalidStockReason, InvalidStockQuantity, VariantNotFound.
    Side effects: updates ``variants.stock_quantity`` and writes ledger rows, in one
    transaction (the caller's when there is one).
    """
    check_staff_permission(actor_id)
    checked_reason = _checked_reason(reason, STAFF_REASONS)
    note = _checked_note(note)
    wanted = {
        variant_id: checked_quantity(level, "new_level", allow_zero=True)
        for variant_id, level in levels.items()
    }
    movements: list[StockMovement] = []
    ids = sorted(wanted)
    with stock_transaction():
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            current = lock_variants(chunk)
            deltas = {
                variant_id: wanted[variant_id] - current[variant_id][1]
                for variant_id in chunk
                if wanted[variant_id] != current[variant_id][1]
            }
            if deltas:
                movements += apply_movements(
                    deltas, reason=checked_reason, actor_id=actor_id, note=note
                )
    return movements
