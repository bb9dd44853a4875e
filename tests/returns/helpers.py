"""Delivered orders of a customer, with two lines, and their returns read back."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from funnel.accounts.models import Role, User
from funnel.extensions import db
from funnel.inventory.models import StockMovement
from funnel.orders import queries
from funnel.orders.models import Order, OrderLine, OrderStatus, ReturnLine, ReturnRequest
from tests.factories.accounts import UserFactory
from tests.factories.inventory import stocked_variant
from tests.orders.helpers import order_in


def delivered_order(owner: User | None = None, **place_arguments: Any) -> Order:
    """A card-paid order, delivered now: 2 units of one variant and 1 of another."""
    staff = UserFactory(role=Role.STAFF)
    if "lines" not in place_arguments:
        place_arguments["lines"] = [(stocked_variant(10), 2), (stocked_variant(5), 1)]
    if owner is not None:
        place_arguments.setdefault("email", owner.email)
        place_arguments.setdefault("user_id", owner.id)
    return order_in(OrderStatus.DELIVERED, staff.id, **place_arguments)


def lines_of(order: Order) -> list[OrderLine]:
    return queries.order_lines(order)


def returns_state() -> list[tuple[object, ...]]:
    """Every return and its lines, with what staff change."""
    db.session.expire_all()
    returns = db.session.execute(
        sa.select(
            ReturnRequest.number, ReturnRequest.status, ReturnRequest.staff_note,
            ReturnRequest.refund_id,
        ).order_by(ReturnRequest.id)
    ).all()  # fmt: skip
    lines = db.session.execute(
        sa.select(
            ReturnLine.order_line_id, ReturnLine.quantity, ReturnLine.restocked_quantity
        ).order_by(ReturnLine.id)
    ).all()
    return [tuple(row) for row in [*returns, *lines]]


def returned_movements(order: Order) -> list[tuple[int, int, str]]:
    """(variant id, units, reason) of the stock ledger's rows that gave units back."""
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(StockMovement.variant_id, StockMovement.quantity, StockMovement.reason)
        .where(StockMovement.order_reference == order.number, StockMovement.quantity > 0)
        .order_by(StockMovement.id)
    ).all()
    return [(row[0], row[1], str(getattr(row[2], "value", row[2]))) for row in rows]
