"""A refund's record, in the two transactions around the gateway call of ``refund_order``.

``reserve`` (before the call) locks the order, checks what is left to refund of each line and
of the shipping, prices the lines (``orders.pricing``) and records the refund ``pending`` with
its lines: a second refund of the same line, at the same moment, waits for the order's lock and
then sees these units taken. ``release`` deletes a refund the gateway or the payment refused
(its units are free again); ``settle`` marks it succeeded and puts back in stock the units of
the lines staff chose, through the inventory service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import selectinload

from funnel.core import clock
from funnel.core.money import Money
from funnel.extensions import db
from funnel.inventory import queries as inventory_queries
from funnel.inventory import services as inventory
from funnel.inventory.models import MovementReason
from funnel.orders import pricing
from funnel.orders.errors import InvalidOrderInput, RefundExceedsOrder
from funnel.orders.models import (
    Order,
    OrderLine,
    Refund,
    RefundLine,
    RefundStatus,
    ReturnRequest,
    ReturnStatus,
)
from funnel.orders.services.results import RefundLineInput
from funnel.payments.errors import (
    NothingLeftToRefund,
    PaymentIdempotencyKeyReused,
    RefundExceedsPayment,
)
from funnel.payments.models import Payment

MAX_UNITS = 10**9


@dataclass(frozen=True)
class RefundRequest:
    """What staff asked for: lines and shipping, or an amount (None: all that is left)."""

    lines: tuple[RefundLineInput, ...]
    shipping: bool
    amount: Money | None
    reason: str

    @property
    def is_by_lines(self) -> bool:
        return bool(self.lines) or self.shipping


def find_refund(request_key: str) -> Refund | None:
    """The refund recorded under ``request_key``, read afresh, with its lines."""
    return db.session.scalar(
        select(Refund)
        .where(Refund.request_key == request_key)
        .options(selectinload(Refund.lines))
        .execution_options(populate_existing=True)
    )


def _same_request(refund: Refund, order: Order, request: RefundRequest) -> bool:
    if refund.order_id != order.id or refund.is_by_lines != request.is_by_lines:
        return False
    if request.is_by_lines:
        asked = sorted((item.order_line_id, item.quantity, item.restock) for item in request.lines)
        made = sorted(
            (item.order_line_id, item.quantity, item.is_restocked) for item in refund.lines
        )
        return asked == made and (refund.shipping_minor > 0) == request.shipping
    return request.amount is None or request.amount.amount == refund.amount_minor


def reserve(
    order: Order, payment: Payment, request: RefundRequest, key: str, actor_user_id: int | None
) -> tuple[Refund, bool]:
    """Record the refund ``pending`` on the locked ``order``; ``(refund, is_new)``.

    The same key again returns its refund (``is_new`` False). Must run in the caller's order
    transaction, after ``lock_order``. Raises PaymentIdempotencyKeyReused (the key made
    another refund), InvalidOrderInput (a line not of this order, a unit count out of range,
    stock that cannot go back), RefundExceedsOrder, NothingLeftToRefund, RefundExceedsPayment.
    """
    existing = find_refund(key)
    if existing is not None:
        if not _same_request(existing, order, request):
            raise PaymentIdempotencyKeyReused()
        return existing, False
    refunds = _order_refunds(order.id)
    left = _refundable_minor(payment, refunds)
    if request.is_by_lines:
        lines, shipping_minor = _priced_lines(order, request, refunds)
        amount = sum(line.amount_minor for line in lines) + shipping_minor
        if amount <= 0:
            raise InvalidOrderInput(
                fields={"lines": ["These items cost nothing: there is no money to give back."]}
            )
    else:
        lines, shipping_minor = [], 0
        amount = left if request.amount is None else request.amount.amount
    if left <= 0:
        raise NothingLeftToRefund(f"Order {order.number} has been refunded in full.")
    if amount > left:
        raise RefundExceedsPayment(
            f"At most {Money(left, order.currency).format()} can still be refunded."
        )
    refund = Refund(
        order_id=order.id,
        request_key=key,
        status=RefundStatus.PENDING,
        amount_minor=amount,
        shipping_minor=shipping_minor,
        reason=request.reason,
        actor_user_id=actor_user_id,
        created_at=clock.utcnow(),
    )
    db.session.add(refund)
    db.session.flush()
    for line in lines:
        line.refund_id = refund.id
    db.session.add_all(lines)
    db.session.flush()
    return find_refund(key) or refund, True


def _order_refunds(order_id: int) -> list[Refund]:
    return list(
        db.session.scalars(
            select(Refund)
            .where(Refund.order_id == order_id)
            .options(selectinload(Refund.lines))
            .order_by(Refund.id)
            .execution_options(populate_existing=True)
        )
    )


def _refundable_minor(payment: Payment, refunds: Sequence[Refund]) -> int:
    """What may still be refunded: the payment's amount minus what it refunded and what
    refunds under way hold (recorded here before the payment hears of them)."""
    if payment.refundable.amount <= 0:
        return 0
    pending = sum(r.amount_minor for r in refunds if r.status == RefundStatus.PENDING)
    held = max(payment.refund_pending_minor, pending)
    return payment.amount_minor - payment.refunded_minor - held


def _priced_lines(
    order: Order, request: RefundRequest, refunds: Sequence[Refund]
) -> tuple[list[RefundLine], int]:
    """The request's refund lines, priced, and the shipping's amount (0 when not asked)."""
    order_lines = list(
        db.session.scalars(
            select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)
        )
    )
    by_id = {line.id: line for line in order_lines}
    taken = {line.id: 0 for line in order_lines}
    restocking: dict[int, int] = {}  # units going back to stock per variant, under way
    for refund in refunds:
        for refund_line in refund.lines:
            taken[refund_line.order_line_id] += refund_line.quantity
            if refund.status == RefundStatus.PENDING and refund_line.is_restocked:
                variant_id = by_id[refund_line.order_line_id].variant_id
                if variant_id is not None:
                    restocking[variant_id] = restocking.get(variant_id, 0) + refund_line.quantity
    line_tax, shipping_tax = pricing.tax_shares(
        [(line.id, line.line_total_minor) for line in order_lines],
        order.shipping_minor,
        order.tax_minor,
    )
    priced: list[RefundLine] = []
    over: dict[str, list[str]] = {}
    seen: set[int] = set()
    for asked in request.lines:
        field = f"lines.{asked.order_line_id}"
        line = by_id.get(asked.order_line_id)
        if line is None or asked.order_line_id in seen:
            raise InvalidOrderInput(fields={field: ["Name each line of this order once."]})
        seen.add(line.id)
        units = asked.quantity
        if isinstance(units, bool) or not isinstance(units, int) or not 1 <= units <= MAX_UNITS:
            raise InvalidOrderInput(fields={field: ["Give a whole number of units above 0."]})
        left = line.quantity - taken[line.id]
        if units > left:
            over[field] = [f"{left} of {line.quantity} left to refund."]
            continue
        if asked.restock:
            if line.variant_id is None:
                raise InvalidOrderInput(
                    fields={field: ["This product is no longer in the catalogue: no stock."]}
                )
            restocking[line.variant_id] = restocking.get(line.variant_id, 0) + units
        priced.append(
            RefundLine(
                order_line_id=line.id,
                quantity=units,
                amount_minor=pricing.units_amount(
                    line.unit_price_minor, line.quantity, line_tax[line.id], taken[line.id], units
                ),
                is_restocked=bool(asked.restock),
            )
        )
    shipping_minor = 0
    if request.shipping:
        if any(refund.shipping_minor > 0 for refund in refunds):
            over["shipping"] = ["The shipping has been refunded."]
        else:
            shipping_minor = order.shipping_minor + shipping_tax
    if over:
        raise RefundExceedsOrder(fields=over)
    _check_restock(order, restocking, request.lines, by_id)
    return priced, shipping_minor


def _check_restock(
    order: Order,
    restocking: dict[int, int],
    asked: Sequence[RefundLineInput],
    by_id: dict[int, OrderLine],
) -> None:
    """Never put back more units than the order still holds (the stock ledger: what it took
    minus what it gave back), counting restocks under way."""
    held = inventory_queries.order_net_quantities(order.number)
    for line in asked:
        variant_id = by_id[line.order_line_id].variant_id
        if (
            line.restock
            and variant_id is not None
            and restocking[variant_id] > held.get(variant_id, 0)
        ):
            can = held.get(variant_id, 0) - (restocking[variant_id] - line.quantity)
            raise InvalidOrderInput(
                fields={
                    f"lines.{line.order_line_id}": [
                        f"At most {max(can, 0)} of these units can go back to stock."
                    ]
                }
            )


def release(refund_id: int) -> None:
    """Forget a pending refund the payment refused: its units are free to refund again (and
    the return it was to settle waits for another refund)."""
    db.session.execute(
        update(ReturnRequest)
        .where(ReturnRequest.refund_id == refund_id, ReturnRequest.status == ReturnStatus.RECEIVED)
        .values(refund_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(RefundLine).where(RefundLine.refund_id == refund_id))
    db.session.execute(
        delete(Refund).where(Refund.id == refund_id, Refund.status == RefundStatus.PENDING)
    )


def settle(refund: Refund, order: Order, actor_user_id: int | None, note: str) -> bool:
    """Mark a pending refund succeeded and put its chosen lines back in stock (reason
    ``returned``, through the inventory service); whether any unit went back.

    Runs in the caller's transaction with the order locked.
    """
    refund.status = RefundStatus.SUCCEEDED
    refund.refunded_at = clock.utcnow()
    variants = dict(
        db.session.execute(
            select(OrderLine.id, OrderLine.variant_id).where(OrderLine.order_id == order.id)
        )
        .tuples()
        .all()
    )
    units: dict[int, int] = {}
    for line in refund.lines:
        variant_id = variants.get(line.order_line_id)
        if line.is_restocked and variant_id is not None:
            units[variant_id] = units.get(variant_id, 0) + line.quantity
    if units:
        inventory.return_stock(
            order.number,
            units,
            reason=MovementReason.RETURNED,
            actor_id=actor_user_id,
            note=note[:500],
        )
    db.session.flush()
    return bool(units)
