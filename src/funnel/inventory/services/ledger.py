"""Stock movements: the one way a variant's stock changes, and the staff and return use cases.

A change is one conditional ``UPDATE`` per variant (``stock_quantity >= :n`` for a decrement),
rows in ascending id order, never read-modify-write; then one ``StockMovement`` per variant
with the level the update left (read back under the update's own row lock). A variant changed
for the first time gets its ``opening_balance`` movement first, so that the ledger balances.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from funnel.accounts import queries as account_queries
from funnel.accounts.permissions import Permission, require_permission
from funnel.audit import services as audit
from funnel.catalog.errors import VariantNotFound
from funnel.catalog.models import Variant
from funnel.core import metrics
from funnel.core.database import in_transaction, transaction
from funnel.extensions import db
from funnel.inventory import queries
from funnel.inventory.errors import (
    InvalidStockQuantity,
    InvalidStockReason,
    OutOfStock,
    ReturnExceedsSale,
    ShortLine,
)
from funnel.inventory.models import (
    NOTE_LENGTH,
    ORDER_REFERENCE_LENGTH,
    ORDER_RETURN_REASONS,
    STAFF_REASONS,
    MovementReason,
    StockMovement,
)

MAX_STOCK = 10**9  # the catalogue's own ceiling for a stock level


@contextmanager
def stock_transaction() -> Iterator[Session]:
    """``transaction()``, in READ COMMITTED on MariaDB/MySQL when this call opens it.

    Every stock use case locks the variant rows first; after the lock it must read what the
    previous lock holder committed (its reservations, its opening balance). PostgreSQL's
    default (READ COMMITTED) does; InnoDB's REPEATABLE READ could read an older snapshot and
    takes gap locks that make concurrent inserts deadlock. SQLite serialises writers anyway.
    """
    opens = not in_transaction()
    with transaction() as session:
        if opens and session.get_bind().dialect.name in {"mysql", "mariadb"}:
            session.connection(execution_options={"isolation_level": "READ COMMITTED"})
        yield session


def lock_variants(variant_ids: list[int]) -> dict[int, tuple[str, int]]:
    """Lock the variants' rows in ascending id order; map each id to ``(sku, stock)``.

    Raises VariantNotFound when an id is unknown. ``FOR UPDATE`` on PostgreSQL and MariaDB;
    SQLite has no row locks (its IMMEDIATE write transaction already holds the database).
    """
    rows = db.session.execute(
        select(Variant.id, Variant.sku, Variant.stock_quantity)
        .where(Variant.id.in_(variant_ids))
        .order_by(Variant.id)
        .with_for_update()
    )
    found = {variant_id: (sku, stock) for variant_id, sku, stock in rows.tuples()}
    missing = sorted(set(variant_ids) - set(found))
    if missing:
        raise VariantNotFound(f"Unknown variant id(s): {', '.join(map(str, missing))}.")
    return found


def apply_movements(
    deltas: Mapping[int, int],
    *,
    reason: MovementReason,
    actor_id: int | None = None,
    order_reference: str | None = None,
    note: str = "",
) -> list[StockMovement]:
    """Change each variant's stock by its signed delta and write the ledger rows.

    Must run inside a transaction (the caller's). Raises OutOfStock for the first variant
    (in id order) that has less stock than a decrement needs, VariantNotFound for an unknown
    id, InvalidStockQuantity when an increment would pass the ceiling. A zero delta changes
    nothing but is still recorded (a stock count that matched).
    """
    ids = sorted(deltas)
    for variant_id in ids:
        _change_level(variant_id, deltas[variant_id])
    balances = dict(
        db.session.execute(select(Variant.id, Variant.stock_quantity).where(Variant.id.in_(ids)))
        .tuples()
        .all()
    )
    _record_opening_balances({vid: balances[vid] - deltas[vid] for vid in ids})
    movements = [
        StockMovement(
            variant_id=variant_id,
            quantity=deltas[variant_id],
            reason=reason,
            balance_after=balances[variant_id],
            actor_id=actor_id,
            order_reference=order_reference,
            note=note,
        )
        for variant_id in ids
    ]
    db.session.add_all(movements)
    db.session.flush()
    emptied = sum(1 for vid in ids if deltas[vid] < 0 and balances[vid] == 0)
    if emptied:
        metrics.stock_out(reason.value, emptied)
    return movements


def _change_level(variant_id: int, delta: int) -> None:
    if delta == 0:
        if db.session.get(Variant, variant_id) is None:
            raise VariantNotFound()
        return
    statement = update(Variant).where(Variant.id == variant_id)
    if delta < 0:
        statement = statement.where(Variant.stock_quantity >= -delta)
    else:
        statement = statement.where(Variant.stock_quantity <= MAX_STOCK - delta)
    result = db.session.execute(
        statement.values(stock_quantity=Variant.stock_quantity + delta),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount == 1:
        # A Variant already loaded in this session must not show the old level.
        loaded = db.session.identity_map.get(identity_key(Variant, variant_id))
        if loaded is not None:
            db.session.expire(loaded, ["stock_quantity"])
        return
    row = db.session.execute(
        select(Variant.sku, Variant.stock_quantity).where(Variant.id == variant_id)
    ).first()
    if row is None:
        raise VariantNotFound()
    sku, stock = row
    if delta < 0:
        raise OutOfStock([ShortLine(variant_id, sku, -delta, stock)])
    raise InvalidStockQuantity(
        f"{sku} would hold more than {MAX_STOCK} units.",
        fields={"quantity": [f"At most {MAX_STOCK - stock} more."]},
    )


def _record_opening_balances(levels_before: Mapping[int, int]) -> None:
    """Write an ``opening_balance`` row for each variant that has no movement yet.

    The variant rows are locked by the caller's update, so the level before it is exact. In a
    REPEATABLE READ transaction (a caller's, on MariaDB) the existence check may read an old
    snapshot: the unique ``opening_variant_id`` then refuses the second opening row, and the
    savepoint keeps the rest of the transaction.
    """
    ids = list(levels_before)
    opened = set(
        db.session.scalars(
            select(StockMovement.variant_id).where(StockMovement.variant_id.in_(ids)).distinct()
        )
    )
    for variant_id in ids:
        if variant_id in opened:
            continue
        try:
            with db.session.begin_nested():
                level = levels_before[variant_id]
                db.session.add(
                    StockMovement(
                        variant_id=variant_id,
                        quantity=level,
                        reason=MovementReason.OPENING_BALANCE,
                        balance_after=level,
                        opening_variant_id=variant_id,
                        note="Level before the first recorded movement",
                    )
                )
        except IntegrityError:
            continue


def checked_quantity(value: object, field: str = "quantity", *, allow_zero: bool = False) -> int:
    """A whole number of units, positive (or zero when allowed) and below the ceiling."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidStockQuantity(fields={field: ["Must be a whole number."]})
    lowest = 0 if allow_zero else 1
    if not lowest <= value <= MAX_STOCK:
        raise InvalidStockQuantity(fields={field: [f"Must be between {lowest} and {MAX_STOCK}."]})
    return value


def checked_quantities(quantities: Mapping[int, int]) -> dict[int, int]:
    """``{variant_id: units}`` with whole-number ids and positive quantities."""
    checked: dict[int, int] = {}
    for variant_id, quantity in quantities.items():
        if isinstance(variant_id, bool) or not isinstance(variant_id, int):
            raise InvalidStockQuantity(fields={"variant_id": ["Must be a whole number."]})
        checked[variant_id] = checked_quantity(quantity, f"quantities.{variant_id}")
    return checked


def checked_reference(order_reference: object) -> str:
    if not isinstance(order_reference, str) or not order_reference.strip():
        raise InvalidStockQuantity(fields={"order_reference": ["An order reference is required."]})
    reference = order_reference.strip()
    if len(reference) > ORDER_REFERENCE_LENGTH:
        raise InvalidStockQuantity(
            fields={"order_reference": [f"At most {ORDER_REFERENCE_LENGTH} characters."]}
        )
    return reference


def _checked_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_LENGTH:
        raise InvalidStockQuantity(fields={"note": [f"At most {NOTE_LENGTH} characters."]})
    return note


def _checked_reason(
    reason: MovementReason | str, allowed: frozenset[MovementReason]
) -> MovementReason:
    try:
        checked = MovementReason(reason)
    except ValueError:
        checked = None
    if checked is None or checked not in allowed:
        choices = ", ".join(sorted(allowed))
        raise InvalidStockReason(fields={"reason": [f"Choose one of: {choices}."]})
    return checked


def check_staff_permission(actor_id: int | None) -> None:
    """A staff change names a staff member holding ``inventory.adjust`` (None: the system).

    Raises PermissionDenied for a customer, an unknown account or staff without it, so that a
    page, an API call and a direct call agree on who may change stock.
    """
    if actor_id is None:
        return
    require_permission(account_queries.get_user(actor_id), Permission.INVENTORY_ADJUST)


def adjust_stock(
    variant_id: int,
    *,
    reason: MovementReason | str,
    delta: int | None = None,
    new_level: int | None = None,
    note: str = "",
    actor_id: int | None = None,
) -> StockMovement:
    """Change a variant's stock by ``delta`` or set it to ``new_level`` (exactly one), for staff.

    ``reason`` is one of received, counted, damaged, returned, adjustment, correction. Setting
    the level that is already there records a zero movement (a count that matched).
    Returns the movement. Raises PermissionDenied (``actor_id`` without ``inventory.adjust``),
    InvalidStockReason, InvalidStockQuantity (neither or both of delta/new_level, zero delta,
    out of range, note too long), VariantNotFound, OutOfStock (a decrement below zero).
    Side effects: updates ``variants.stock_quantity``, writes ledger
    rows (with the opening balance the first time).
    """
    check_staff_permission(actor_id)
    checked_reason = _checked_reason(reason, STAFF_REASONS)
    note = _checked_note(note)
    if (delta is None) == (new_level is None):
        raise InvalidStockQuantity("Give either a change or a new level, not both.")
    if delta is not None and (isinstance(delta, bool) or not isinstance(delta, int) or not delta):
        raise InvalidStockQuantity(fields={"delta": ["Must be a whole number other than 0."]})
    if new_level is not None:
        new_level = checked_quantity(new_level, "new_level", allow_zero=True)
    with stock_transaction():
        if new_level is not None:
            _sku, stock = lock_variants([variant_id])[variant_id]
            delta = new_level - stock
        assert delta is not None
        [movement] = apply_movements(
            {variant_id: delta}, reason=checked_reason, actor_id=actor_id, note=note
        )
        audit.record(
            "stock.adjusted",
            actor_user_id=actor_id,
            object_type="stock",
            object_id=variant_id,
            object_label=db.session.scalar(select(Variant.sku).where(Variant.id == variant_id))
            or "",
            before={"stock_quantity": movement.balance_after - movement.quantity},
            after={
                "stock_quantity": movement.balance_after,
                "reason": checked_reason.value,
                "note": note,
            },
        )
        return movement


def return_stock(
    order_reference: str,
    quantities: Mapping[int, int],
    *,
    reason: MovementReason | str,
    actor_id: int | None = None,
    note: str = "",
) -> list[StockMovement]:
    """Put back units an order took (``{variant_id: units}``), e.g. when it is cancelled.

    ``reason`` is cancellation_return, refund_return or returned. An order can never give back
    more than it took: the ledger's sale rows for ``order_reference`` are the limit, so calling
    this twice for one cancellation is refused rather than doubling the stock.
    Returns one movement per variant, in id order. Raises InvalidStockReason,
    InvalidStockQuantity, VariantNotFound, ReturnExceedsSale. Side effects: increments stock
    and writes ledger rows with the order reference.
    """
    checked_reason = _checked_reason(reason, ORDER_RETURN_REASONS)
    reference = checked_reference(order_reference)
    units = checked_quantities(quantities)
    if not units:
        raise InvalidStockQuantity(fields={"quantities": ["Nothing to return."]})
    note = _checked_note(note)
    with stock_transaction():
        skus = lock_variants(sorted(units))
        still_held = queries.order_net_quantities(reference)
        over = [
            f"{skus[vid][0]}: {units[vid]} to return, {still_held.get(vid, 0)} held by the order"
            for vid in sorted(units)
            if units[vid] > still_held.get(vid, 0)
        ]
        if over:
            raise ReturnExceedsSale("; ".join(over))
        return apply_movements(
            units,
            reason=checked_reason,
            actor_id=actor_id,
            order_reference=reference,
            note=note,
        )
