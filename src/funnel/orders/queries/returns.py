"""Reads of return requests: an order's returns, one return, the staff's list, and what a
customer may still ask to return (the window after delivery, the units left per line)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from funnel.core import clock
from funnel.core.pagination import Page, paginate
from funnel.extensions import db
from funnel.orders.errors import ReturnNotFound
from funnel.orders.models import (
    OPEN_RETURN_STATUSES,
    RETURN_NUMBER_LENGTH,
    Order,
    OrderLine,
    OrderStatus,
    Refund,
    RefundLine,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
)
from funnel.settings.queries import current_settings

STAFF_PAGE_SIZE = 50


@dataclass(frozen=True)
class ReturnOffer:
    """What the customer may return now: ``returnable`` units per order line id, and until
    when (``closes_at``); ``reason`` says why nothing can be returned (empty when it can)."""

    returnable: dict[int, int]
    closes_at: datetime | None
    reason: str

    @property
    def is_open(self) -> bool:
        return not self.reason and any(self.returnable.values())


def _with_lines(statement):  # type: ignore[no-untyped-def]
    return statement.options(
        selectinload(ReturnRequest.lines).selectinload(ReturnLine.order_line),
        selectinload(ReturnRequest.order),
    )


def order_returns(order_id: int) -> list[ReturnRequest]:
    """The order's returns, oldest first, with their lines (and each line's order line)."""
    return list(
        db.session.scalars(
            _with_lines(select(ReturnRequest))
            .where(ReturnRequest.order_id == order_id)
            .order_by(ReturnRequest.sequence)
            .execution_options(populate_existing=True)
        )
    )


def find_return(number: str) -> ReturnRequest | None:
    """The return numbered ``number`` (any letter case, surrounding spaces ignored)."""
    normalised = (number or "").strip().upper()
    if not normalised or len(normalised) > RETURN_NUMBER_LENGTH:
        return None
    return db.session.scalar(
        _with_lines(select(ReturnRequest))
        .where(ReturnRequest.number == normalised)
        .execution_options(populate_existing=True)
    )


def get_return(number: str, order_id: int | None = None) -> ReturnRequest:
    """The return numbered ``number`` (of order ``order_id`` when given). Raises
    ReturnNotFound."""
    found = find_return(number)
    if found is None or (order_id is not None and found.order_id != order_id):
        raise ReturnNotFound()
    return found


def get_return_of_order(order_id: int, return_id: int) -> ReturnRequest:
    """One return of the order, with its lines. Raises ReturnNotFound (another order's too)."""
    for found in order_returns(order_id):
        if found.id == return_id:
            return found
    raise ReturnNotFound()


def search_returns(
    status: ReturnStatus | None, page: int, size: int = STAFF_PAGE_SIZE
) -> Page[ReturnRequest]:
    """Returns in ``status`` (None: all), oldest first: the longest waiting on top."""
    statement = select(ReturnRequest).order_by(ReturnRequest.created_at, ReturnRequest.id)
    if status is not None:
        statement = statement.where(ReturnRequest.status == status)
    return paginate(
        db.session,
        statement,
        page,
        size,
        options=(
            selectinload(ReturnRequest.order),
            selectinload(ReturnRequest.lines).selectinload(ReturnLine.order_line),
        ),
    )


def count_returns_by_status() -> dict[ReturnStatus, int]:
    """How many returns are in each status (every status, 0 when none)."""
    counts = dict.fromkeys(ReturnStatus, 0)
    rows = db.session.execute(
        select(ReturnRequest.status, func.count()).group_by(ReturnRequest.status)
    )
    for status, count in rows.tuples():
        counts[ReturnStatus(status)] = int(count)
    return counts


def taken_quantities(order_id: int) -> dict[int, int]:
    """Units per order line id that cannot be asked for again: refunded (refunds under way
    included) or in an open return (requested, approved, received). Every line, 0 when none."""
    taken = dict.fromkeys(
        db.session.scalars(select(OrderLine.id).where(OrderLine.order_id == order_id)), 0
    )
    refunded = db.session.execute(
        select(RefundLine.order_line_id, func.sum(RefundLine.quantity))
        .join(Refund, Refund.id == RefundLine.refund_id)
        .where(Refund.order_id == order_id)
        .group_by(RefundLine.order_line_id)
    ).tuples()
    returning = db.session.execute(
        select(ReturnLine.order_line_id, func.sum(ReturnLine.quantity))
        .join(ReturnRequest, ReturnRequest.id == ReturnLine.return_id)
        .where(
            ReturnRequest.order_id == order_id,
            ReturnRequest.status.in_(sorted(OPEN_RETURN_STATUSES)),
        )
        .group_by(ReturnLine.order_line_id)
    ).tuples()
    for line_id, units in [*refunded, *returning]:
        taken[line_id] = taken.get(line_id, 0) + int(units or 0)
    return taken


def return_offer(
    order: Order, lines: Sequence[OrderLine], now: datetime | None = None
) -> ReturnOffer:
    """What the customer of ``order`` may ask to return now (the shop's return window)."""
    taken = taken_quantities(order.id)
    returnable = {line.id: max(line.quantity - taken.get(line.id, 0), 0) for line in lines}
    days = current_settings().return_window_days
    if order.status != OrderStatus.DELIVERED or order.delivered_at is None:
        return ReturnOffer(returnable, None, "Items can be returned once the order is delivered.")
    closes_at = order.delivered_at + timedelta(days=days)
    if days <= 0:
        return ReturnOffer(returnable, None, "This shop takes no returns online.")
    if (now or clock.utcnow()) > closes_at:
        when = closes_at.strftime("%d %B %Y")
        return ReturnOffer(
            returnable,
            closes_at,
            f"The return window closed on {when}, {days} days after delivery.",
        )
    if not any(returnable.values()):
        return ReturnOffer(returnable, closes_at, "Every item is already returned or refunded.")
    return ReturnOffer(returnable, closes_at, "")
