"""Reservations: a checkout holds units for a while, then turns them into a sale.

A holder (the checkout or cart session's key) has at most one reservation per variant.
Reservations count against everyone else's availability until ``expires_at``; an expired one
stops counting at once and is deleted by ``delete_expired_reservations`` (a periodic job).

Race-safety: ``reserve`` and ``commit_reservation`` first lock the variants' rows in id order
(``SELECT ... FOR UPDATE`` on PostgreSQL and MariaDB; SQLite's IMMEDIATE write transaction
holds the whole database), so that two checkouts for the same variant run one after the other;
the conditional decrement is the last guard against selling a unit twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from funnel.core import clock, metrics
from funnel.extensions import db
from funnel.inventory import queries
from funnel.inventory.errors import (
    InsufficientStock,
    InvalidHolder,
    InvalidStockQuantity,
    OutOfStock,
    ReservationLimitReached,
    ReservationMismatch,
    ReservationNotFound,
    ShortLine,
)
from funnel.inventory.models import (
    HOLDER_LENGTH,
    OWNER_LENGTH,
    MovementReason,
    StockReservation,
)
from funnel.inventory.services.ledger import (
    apply_movements,
    checked_quantities,
    checked_reference,
    lock_variants,
    stock_transaction,
)

DEFAULT_RESERVATION_MINUTES = 15
DEFAULT_MAX_SHARE_PERCENT = 50


def _checked_holder(holder: object) -> str:
    if not isinstance(holder, str) or not holder or len(holder) > HOLDER_LENGTH:
        raise InvalidHolder(fields={"holder": [f"1 to {HOLDER_LENGTH} characters."]})
    return holder


def reservation_minutes() -> int:
    """How long a reservation lasts: ``RESERVATION_MINUTES`` (15 by default)."""
    return int(current_app.config.get("RESERVATION_MINUTES", DEFAULT_RESERVATION_MINUTES))


def max_share_percent() -> int:
    """The share of a variant's stock one owner may hold: ``RESERVATION_MAX_SHARE`` (%)."""
    return int(current_app.config.get("RESERVATION_MAX_SHARE", DEFAULT_MAX_SHARE_PERCENT))


def owner_allowance(stock: int, share_percent: int) -> int:
    """Units of a variant with ``stock`` on hand that one owner may hold: the share, rounded
    down, but never less than one (the last unit can always be bought)."""
    return max(1, stock * share_percent // 100)


def _checked_owner(owner: object) -> str | None:
    if owner is not None and (not isinstance(owner, str) or not 0 < len(owner) <= OWNER_LENGTH):
        raise InvalidHolder(fields={"owner": [f"1 to {OWNER_LENGTH} characters."]})
    return owner


def _over_share(
    owner: str, holder: str, units: Mapping[int, int], locked: Mapping[int, tuple[str, int]]
) -> list[ShortLine]:
    """The lines for which ``owner`` would hold more than its share, counting what it holds
    through its other holders (carts)."""
    share = max_share_percent()
    if share >= 100:
        return []
    held = queries.owner_reserved_quantities(units, owner, excluding_holder=holder)
    over = []
    for variant_id in sorted(units):
        sku, stock = locked[variant_id]
        allowed = max(0, owner_allowance(stock, share) - held.get(variant_id, 0))
        if units[variant_id] > allowed:
            over.append(ShortLine(variant_id, sku, units[variant_id], allowed))
    return over


def reserve(
    holder: str,
    quantities: Mapping[int, int],
    *,
    minutes: int | None = None,
    owner: str | None = None,
) -> list[StockReservation]:
    """Replace ``holder``'s reservations with ``{variant_id: units}``, atomically.

    The reservations last ``minutes`` (default: the ``RESERVATION_MINUTES`` setting) from now;
    calling again (the cart changed, the customer came back) replaces them and restarts the
    clock. An empty mapping releases everything the holder has. Returns the new reservations
    in variant id order.

    ``owner`` is who asks (a client's key): with all its holders together it may hold at most
    ``RESERVATION_MAX_SHARE`` percent of a variant's stock (at least one unit), so that nobody
    reserves a product away from every other shopper through many carts. None: not counted.

    Raises InvalidHolder, InvalidStockQuantity, VariantNotFound, InsufficientStock listing
    every line that asks for more than is available to this holder (``lines``: variant id,
    SKU, requested, available), and ReservationLimitReached listing every line over the
    owner's share (``available``: what the owner may still reserve); on any error the holder's
    previous reservations are kept. Side effects: locks the variants' rows until the
    transaction ends.
    """
    holder = _checked_holder(holder)
    owner = _checked_owner(owner)
    units = checked_quantities(quantities)
    minutes = reservation_minutes() if minutes is None else minutes
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
        raise InvalidStockQuantity(fields={"minutes": ["Must be a whole number of 1 or more."]})
    if not units:
        release(holder)
        return []
    with stock_transaction():
        ids = sorted(units)
        locked = lock_variants(ids)
        held_by_others = queries.reserved_quantities(ids, excluding_holder=holder)
        short = []
        for variant_id in ids:
            sku, stock = locked[variant_id]
            available = max(0, stock - held_by_others.get(variant_id, 0))
            if units[variant_id] > available:
                short.append(ShortLine(variant_id, sku, units[variant_id], available))
        if short:
            raise InsufficientStock(short)
        over = _over_share(owner, holder, units, locked) if owner is not None else []
        if over:
            raise ReservationLimitReached(over)
        db.session.execute(delete(StockReservation).where(StockReservation.holder == holder))
        expires_at = clock.utcnow() + timedelta(minutes=minutes)
        reservations = [
            StockReservation(
                variant_id=variant_id,
                quantity=units[variant_id],
                holder=holder,
                owner=owner,
                expires_at=expires_at,
            )
            for variant_id in ids
        ]
        db.session.add_all(reservations)
        db.session.flush()
        return reservations


def release(holder: str) -> int:
    """Drop every reservation ``holder`` has (the cart was abandoned or the payment failed).

    Returns how many were dropped (0 when there were none: releasing twice is harmless).
    Raises InvalidHolder.
    """
    holder = _checked_holder(holder)
    with stock_transaction():
        result = db.session.execute(
            delete(StockReservation).where(StockReservation.holder == holder)
        )
        return result.rowcount


def commit_reservation(
    holder: str,
    order_reference: str,
    *,
    actor_id: int | None = None,
    expected: Mapping[int, int] | None = None,
) -> dict[int, int]:
    """Turn ``holder``'s reservations into a sale for ``order_reference``.

    Decrements each variant's stock by its reserved units (conditional UPDATE, id order),
    writes one ``sale`` movement per variant with the order reference, and deletes the
    reservations; all in one transaction, the caller's when the checkout calls this inside its
    own ``with transaction():`` (so that the order, its lines and the stock commit together).
    ``expected`` (``{variant_id: units}``), when given, must equal what is reserved.
    Returns ``{variant_id: units}`` sold.

    A reservation that lapsed meanwhile can still be committed if the units are still there
    for this holder (stock minus other holders' live reservations); otherwise, and whenever
    stock fell below a reservation, raises OutOfStock listing every short line. Also raises
    InvalidHolder, InvalidStockQuantity (bad reference), ReservationNotFound (nothing
    reserved, or another request already committed it: a double submit sells once),
    ReservationMismatch. On any error nothing is changed.
    """
    holder = _checked_holder(holder)
    reference = checked_reference(order_reference)
    with stock_transaction():
        reservations = queries.reservations_of(holder)
        if not reservations:
            raise ReservationNotFound()
        units = {reservation.variant_id: reservation.quantity for reservation in reservations}
        if expected is not None and dict(expected) != units:
            raise ReservationMismatch(
                "The reserved quantities differ from the order's; reserve again."
            )
        ids = sorted(units)
        locked = lock_variants(ids)
        now = clock.utcnow()
        lapsed = [r.variant_id for r in reservations if r.expires_at <= now]
        held_by_others = queries.reserved_quantities(lapsed, excluding_holder=holder)
        short = []
        for variant_id in ids:
            sku, stock = locked[variant_id]
            available = stock - held_by_others.get(variant_id, 0)
            if units[variant_id] > available:
                short.append(ShortLine(variant_id, sku, units[variant_id], max(0, available)))
        if short:
            raise OutOfStock(short)
        deleted = db.session.execute(
            delete(StockReservation).where(
                StockReservation.id.in_([reservation.id for reservation in reservations])
            ),
            execution_options={"synchronize_session": False},
        )
        if deleted.rowcount != len(reservations):
            # Another request committed (or released) this reservation after we read it.
            raise ReservationNotFound("This reservation has already been used.")
        for reservation in reservations:
            db.session.expunge(reservation)
        apply_movements(
            {variant_id: -quantity for variant_id, quantity in units.items()},
            reason=MovementReason.SALE,
            actor_id=actor_id,
            order_reference=reference,
        )
        return units


def delete_expired_reservations(*, batch_size: int = 1000) -> int:
    """Delete reservations that have expired (they already stopped counting); the job's work.

    Works in batches, each its own transaction, skipping rows another transaction has locked
    (``SKIP LOCKED``), so that it never waits for, or deadlocks with, a checkout. Returns the
    number deleted.
    """
    total = 0
    while True:
        with stock_transaction():
            ids = list(
                db.session.scalars(
                    select(StockReservation.id)
                    .where(StockReservation.expires_at <= clock.utcnow())
                    .order_by(StockReservation.id)
                    .limit(batch_size)
                    .with_for_update(skip_locked=True)
                )
            )
            if ids:
                db.session.execute(
                    delete(StockReservation).where(StockReservation.id.in_(ids)),
                    execution_options={"synchronize_session": False},
                )
                metrics.reservations_expired(len(ids))
        total += len(ids)
        if len(ids) < batch_size:
            return total
