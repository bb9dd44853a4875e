"""Inventory reads: availability, the ledger and its balance check.

Availability is ``stock_quantity`` minus the unexpired reservations of other holders; an
expired reservation stops counting the moment it expires, whether or not the clean-up job has
deleted it yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, select

from funnel.accounts.models import User
from funnel.catalog.errors import VariantNotFound
from funnel.catalog.models import Product, Variant
from funnel.core import clock
from funnel.core.pagination import Page
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


def _reserved_by_others(*, excludes_holder: bool) -> Select[tuple[int, int]]:
    """Units held per variant among ``:variant_ids`` by reservations unexpired at ``:at``
    (not ``:holder``'s, when ``excludes_holder``); the caller binds the parameters."""
    query = select(
        StockReservation.variant_id, func.sum(StockReservation.quantity).label("reserved")
    ).where(
        StockReservation.variant_id.in_(bindparam("variant_ids", expanding=True)),
        StockReservation.expires_at > bindparam("at"),
    )
    if excludes_holder:
        query = query.where(StockReservation.holder != bindparam("holder"))
    return query.group_by(StockReservation.variant_id)


# Built once, as the availability statements below are: a reservation is read by every add to
# cart and checkout step.
_RESERVED = _reserved_by_others(excludes_holder=False)
_RESERVED_BY_OTHERS = _reserved_by_others(excludes_holder=True)
_OWNER_RESERVED_BY_OTHERS = _RESERVED_BY_OTHERS.where(StockReservation.owner == bindparam("owner"))


def _reservation_parameters(ids: list[int], holder: str | None) -> dict[str, object]:
    parameters: dict[str, object] = {"variant_ids": ids, "at": clock.utcnow()}
    if holder is not None:
        parameters["holder"] = holder
    return parameters


def reserved_quantities(
    variant_ids: Iterable[int], *, excluding_holder: str | None = None
) -> dict[int, int]:
    """Units held by unexpired reservations per variant (other holders' only, if one is given).

    Variants with nothing reserved are absent from the result.
    """
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    statement = _RESERVED if excluding_holder is None else _RESERVED_BY_OTHERS
    rows = db.session.execute(statement, _reservation_parameters(ids, excluding_holder))
    return {variant_id: int(reserved) for variant_id, reserved in rows}


def owner_reserved_quantities(
    variant_ids: Iterable[int], owner: str, *, excluding_holder: str
) -> dict[int, int]:
    """Units ``owner`` holds per variant through unexpired reservations of other holders
    (its other carts). Variants with nothing held are absent from the result."""
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    parameters = {**_reservation_parameters(ids, excluding_holder), "owner": owner}
    rows = db.session.execute(_OWNER_RESERVED_BY_OTHERS, parameters)
    return {variant_id: int(reserved) for variant_id, reserved in rows}


def _availability_statement(*, excludes_holder: bool) -> Select[tuple[int, int, int]]:
    """Stock and other holders' unexpired reservations of the ``:variant_ids``."""
    summed = (_RESERVED_BY_OTHERS if excludes_holder else _RESERVED).subquery()
    return (
        select(Variant.id, Variant.stock_quantity, func.coalesce(summed.c.reserved, 0))
        .outerjoin(summed, summed.c.variant_id == Variant.id)
        .where(Variant.id.in_(bindparam("variant_ids", expanding=True)))
    )


# Built once: availability is read by every add to cart and every checkout step, and a
# statement built anew per call costs more CPU than the query itself on SQLite.
_AVAILABILITY = _availability_statement(excludes_holder=False)
_AVAILABILITY_FOR_HOLDER = _availability_statement(excludes_holder=True)


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
    statement = _AVAILABILITY if excluding_holder is None else _AVAILABILITY_FOR_HOLDER
    rows = db.session.execute(statement, _reservation_parameters(ids, excluding_holder))
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


# -- the staff stock pages ------------------------------------------------------------------------

STOCK_PAGE_SIZE = 50
MOVEMENT_PAGE_SIZE = 50


@dataclass(frozen=True)
class StockRow:
    """One variant's stock as the staff stock list shows it.

    ``available`` is on hand minus the units held by unexpired reservations, never below 0;
    ``threshold`` is the variant's own (``has_own_threshold``) or the shop's default.
    """

    variant_id: int
    sku: str
    variant_title: str
    product_id: int
    product_title: str
    on_hand: int
    reserved: int
    threshold: int
    has_own_threshold: bool

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved)

    @property
    def is_low(self) -> bool:
        return self.on_hand - self.reserved <= self.threshold


@dataclass(frozen=True)
class MovementRow:
    """One ledger row with the email of the staff member who made it (None: the system)."""

    id: int
    created_at: datetime
    actor_email: str | None
    reason: MovementReason
    quantity: int
    balance_after: int
    order_reference: str | None
    note: str


def _stock_rows() -> Select[Any]:
    """Every variant with its product, on hand, reserved units and effective threshold: one
    statement (reservations summed in a subquery), whatever the number of variants."""
    reserved = (
        select(StockReservation.variant_id, func.sum(StockReservation.quantity).label("units"))
        .where(StockReservation.expires_at > clock.utcnow())
        .group_by(StockReservation.variant_id)
        .subquery()
    )
    return (
        select(
            Variant.id,
            Variant.sku,
            Variant.title,
            Product.id,
            Product.title,
            Variant.stock_quantity,
            func.coalesce(reserved.c.units, 0).label("reserved"),
            Variant.low_stock_threshold,
        )
        .join(Product, Product.id == Variant.product_id)
        .outerjoin(reserved, reserved.c.variant_id == Variant.id)
    )


def _stock_row(row: Any, default_threshold: int) -> StockRow:
    variant_id, sku, variant_title, product_id, product_title, on_hand, held, own = row
    return StockRow(
        variant_id=variant_id,
        sku=sku,
        variant_title=variant_title,
        product_id=product_id,
        product_title=product_title,
        on_hand=int(on_hand),
        reserved=int(held),
        threshold=default_threshold if own is None else int(own),
        has_own_threshold=own is not None,
    )


def stock_list(
    *,
    default_threshold: int,
    search: str = "",
    low_only: bool = False,
    page: int = 1,
    size: int = STOCK_PAGE_SIZE,
) -> Page[StockRow]:
    """Variants by SKU with their stock figures: a COUNT and one page query.

    ``search`` matches part of the SKU or the product title (any letter case); ``low_only``
    keeps the variants whose available units are at or below their threshold.
    """
    statement = _stock_rows()
    if low_only:
        columns = statement.selected_columns
        statement = statement.where(
            Variant.stock_quantity - columns.reserved
            <= func.coalesce(Variant.low_stock_threshold, default_threshold)
        )
    text = search.strip()
    if text:
        statement = statement.where(
            or_(
                Variant.sku.icontains(text, autoescape=True),
                Product.title.icontains(text, autoescape=True),
            )
        )
    total = db.session.execute(
        select(func.count()).select_from(statement.order_by(None).subquery())
    ).scalar_one()
    rows = db.session.execute(
        statement.order_by(Variant.sku, Variant.id).limit(size).offset((page - 1) * size)
    )
    items = [_stock_row(row, default_threshold) for row in rows]
    return Page(items=items, number=page, size=size, total=total)


def stock_row(variant_id: int, *, default_threshold: int) -> StockRow:
    """One variant's stock figures, as in the list. Raises VariantNotFound."""
    row = db.session.execute(_stock_rows().where(Variant.id == variant_id)).first()
    if row is None:
        raise VariantNotFound()
    return _stock_row(row, default_threshold)


def movement_history(
    variant_id: int, *, page: int = 1, size: int = MOVEMENT_PAGE_SIZE
) -> Page[MovementRow]:
    """A variant's ledger, newest first, with who made each change: a COUNT and one query."""
    total = db.session.execute(
        select(func.count()).where(StockMovement.variant_id == variant_id)
    ).scalar_one()
    rows = db.session.execute(
        select(
            StockMovement.id,
            StockMovement.created_at,
            User.email,
            StockMovement.reason,
            StockMovement.quantity,
            StockMovement.balance_after,
            StockMovement.order_reference,
            StockMovement.note,
        )
        .outerjoin(User, User.id == StockMovement.actor_id)
        .where(StockMovement.variant_id == variant_id)
        .order_by(StockMovement.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    )
    return Page(items=[MovementRow(*row) for row in rows], number=page, size=size, total=total)
