"""Inventory reads: availability, the ledger and its balance check.

Availability is ``stock_quantity`` minus the unexpired reservations of other holders; an
expired reservation stops counting the moment it expires, whether or not the clean-up job has
deleted it yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select

from funnel.catalog.errors import VariantNotFound
from funnel.catalog.models import Variant
from funnel.core import clock
from funnel.extensions import db
from funnel.inventory.models import MovementReason, StockMovement, StockReservation

# The movements by which an order takes stock (negative) or gives it back (positive).
ORDER_MOVEMENT_REASONS = (
    MovementReason.SALE,
    MovementReason.CANCELLATION_RETURN,
    MovementReason.REFUND_RETURN,
    MovementReason.RETURNED,
)


@dataclass(frozen=True)
class LedgerDiscrepancy:
    """A variant whose stock level is not the sum of its movements."""

    variant_id: int
    sku: str
    stock_quantity: int
    ledger_total: int


def _reserved_by_others(
    variant_ids: Iterable[int], excluding_holder: str | None, at: datetime
) -> Select[tuple[int, int]]:
    query = select(
        StockReservation.variant_id, func.sum(StockReservation.quantity).label("reserved")
    ).where(StockReservation.variant_id.in_(list(variant_ids)), StockReservation.expires_at > at)
    if excluding_holder is not None:
        query = query.where(StockReservation.holder != excluding_holder)
    return query.group_by(StockReservation.variant_id)


def reserved_quantities(
    variant_ids: Iterable[int], *, excluding_holder: str | None = None
) -> dict[int, int]:
    """Units held by unexpired reservations per variant (other holders' only, if one is given).

    Variants with nothing reserved are absent from the result.
    """
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    rows = db.session.execute(_reserved_by_others(ids, excluding_holder, clock.utcnow()))
    return {variant_id: int(reserved) for variant_id, reserved in rows}


def owner_reserved_quantities(
    variant_ids: Iterable[int], owner: str, *, excluding_holder: str
) -> dict[int, int]:
    """Units ``owner`` holds per variant through unexpired reservations of other holders
    (its other carts). Variants with nothing held are absent from the result."""
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        _reserved_by_others(ids, excluding_holder, clock.utcnow()).where(
            StockReservation.owner == owner
        )
    )
    return {variant_id: int(reserved) for variant_id, reserved in rows}


def available_quantities(
    variant_ids: Iterable[int], *, excluding_holder: str | None = None
) -> dict[int, int]:
    """Units each variant can still supply: stock minus other holders' unexpired reservations.

    ``excluding_holder`` is the caller's own reservation holder (its own reservations do not
    count against it). One query however many variants; unknown ids are absent from the result;
    never negative (stock adjusted below the reserved units reads as 0).
    """
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    reserved = _reserved_by_others(ids, excluding_holder, clock.utcnow()).subquery()
    rows = db.session.execute(
        select(Variant.id, Variant.stock_quantity, func.coalesce(reserved.c.reserved, 0))
        .outerjoin(reserved, reserved.c.variant_id == Variant.id)
        .where(Variant.id.in_(ids))
    )
    return {variant_id: max(0, int(stock) - int(held)) for variant_id, stock, held in rows.tuples()}


def reservations_of(holder: str) -> list[StockReservation]:
    """The holder's reservations (expired ones included), in variant id order."""
    return list(
        db.session.scalars(
            select(StockReservation)
            .where(StockReservation.holder == holder)
            .order_by(StockReservation.variant_id)
        )
    )


def order_net_quantities(order_reference: str) -> dict[int, int]:
    """Units an order still holds per variant: what it took by sales minus what it gave back."""
    rows = db.session.execute(
        select(StockMovement.variant_id, func.sum(StockMovement.quantity))
        .where(
            StockMovement.order_reference == order_reference,
            StockMovement.reason.in_(ORDER_MOVEMENT_REASONS),
        )
        .group_by(StockMovement.variant_id)
    )
    return {variant_id: -int(total) for variant_id, total in rows.tuples()}


def movements_for_variant(variant_id: int, *, limit: int = 50) -> list[StockMovement]:
    """A variant's most recent movements, newest first."""
    return list(
        db.session.scalars(
            select(StockMovement)
            .where(StockMovement.variant_id == variant_id)
            .order_by(StockMovement.id.desc())
            .limit(limit)
        )
    )


def low_stock_variants(threshold: int = 5, *, limit: int = 100) -> list[Variant]:
    """Variants at or below ``threshold`` units in stock, lowest first."""
    return list(
        db.session.scalars(
            select(Variant)
            .where(Variant.stock_quantity <= threshold)
            .order_by(Variant.stock_quantity, Variant.id)
            .limit(limit)
        )
    )


def ledger_discrepancies() -> list[LedgerDiscrepancy]:
    """Variants with movements whose ``stock_quantity`` differs from the sum of the movements.

    An empty list means the ledger balances. Variants without any movement are not checked
    (their level is still the catalogue's opening one).
    """
    ledger = (
        select(StockMovement.variant_id, func.sum(StockMovement.quantity).label("total"))
        .group_by(StockMovement.variant_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Variant.id, Variant.sku, Variant.stock_quantity, ledger.c.total)
        .join(ledger, ledger.c.variant_id == Variant.id)
        .where(Variant.stock_quantity != ledger.c.total)
        .order_by(Variant.id)
    )
    return [
        LedgerDiscrepancy(variant_id, sku, int(stock), int(total))
        for variant_id, sku, stock, total in rows.tuples()
    ]


@dataclass(frozen=True)
class VariantStock:
    """A variant's stock as staff see it: on hand, held by checkouts, still available."""

    variant_id: int
    sku: str
    on_hand: int
    reserved: int
    available: int
    movements: list[StockMovement]


def variant_stock(variant_id: int, *, movement_limit: int = 20) -> VariantStock:
    """A variant's levels and its most recent movements (newest first).

    Raises VariantNotFound.
    """
    row = db.session.execute(
        select(Variant.sku, Variant.stock_quantity).where(Variant.id == variant_id)
    ).first()
    if row is None:
        raise VariantNotFound()
    sku, on_hand = row
    reserved = reserved_quantities([variant_id]).get(variant_id, 0)
    return VariantStock(
        variant_id=variant_id,
        sku=sku,
        on_hand=on_hand,
        reserved=reserved,
        available=max(0, on_hand - reserved),
        movements=movements_for_variant(variant_id, limit=movement_limit) if movement_limit else [],
    )
