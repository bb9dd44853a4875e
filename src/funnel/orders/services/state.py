"""The order state machine: the one place where an order's status changes.

A change is one conditional UPDATE (``... WHERE id = :id AND status = :from``) whose row count
says whether this caller made it, after the row is locked and read afresh, so that two racing
callers make one change. Each change writes an ``OrderEvent`` in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from funnel.audit import services as audit
from funnel.core import clock
from funnel.core.database import in_transaction, transaction
from funnel.extensions import db
from funnel.orders.errors import InvalidOrderTransition, OrderNotFound
from funnel.orders.models import NOTE_LENGTH, Order, OrderEvent, OrderStatus
from funnel.orders.numbers import normalise_number
from funnel.orders.services.results import OrderChange

log = logging.getLogger(__name__)

S = OrderStatus
# The column that records when an order reached each status.
TIMESTAMPS = {
    S.PAID: "paid_at",
    S.FULFILLED: "fulfilled_at",
    S.DELIVERED: "delivered_at",
    S.CANCELLED: "cancelled_at",
    S.REFUNDED: "refunded_at",
}
# What the audit log calls a staff member's step that reaches each status.
_AUDIT_ACTIONS = {
    S.PAID: "order.payment_received",
    S.FULFILLED: "order.shipped",
    S.DELIVERED: "order.delivered",
    S.CANCELLED: "order.cancelled",
    S.REFUNDED: "order.refunded",
}
_VERBS = {
    S.PAID: "marked paid",
    S.FULFILLED: "shipped",
    S.DELIVERED: "marked delivered",
    S.CANCELLED: "cancelled",
    S.REFUNDED: "refunded",
}


@contextmanager
def order_transaction() -> Iterator[Session]:
    """``transaction()``, in READ COMMITTED on MariaDB/MySQL when this call opens it.

    Order steps lock the order (and, to return stock, the variants) before they read: after
    the lock they must see what the previous holder committed, as on PostgreSQL. InnoDB's
    REPEATABLE READ could read an older snapshot and takes gap locks that deadlock.
    """
    opens = not in_transaction()
    with transaction() as session:
        if opens and session.get_bind().dialect.name in {"mysql", "mariadb"}:
            session.connection(execution_options={"isolation_level": "READ COMMITTED"})
        yield session


def can_change(order: Order, to_status: OrderStatus) -> bool:
    """The workflow allows ``order`` (in the status read) to move to ``to_status``."""
    return to_status in order.transitions


def _where(reference: Order | int | str) -> Any:
    if isinstance(reference, Order):
        return Order.id == reference.id
    if isinstance(reference, int) and not isinstance(reference, bool):
        return Order.id == reference
    if isinstance(reference, str):
        number = normalise_number(reference)
        if number is not None:
            return Order.number == number
    raise OrderNotFound()


def read_order(reference: Order | int | str) -> Order:
    """The order (an ``Order``, an id or a number), read afresh, not locked.

    Raises OrderNotFound."""
    order = db.session.scalar(
        select(Order).where(_where(reference)).execution_options(populate_existing=True)
    )
    if order is None:
        raise OrderNotFound()
    return order


def lock_order(reference: Order | int | str) -> Order:
    """The order, read afresh and locked until the transaction ends (``FOR UPDATE``; SQLite's
    IMMEDIATE write transaction holds the whole database). Raises OrderNotFound."""
    order = db.session.scalar(
        select(Order)
        .where(_where(reference))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise OrderNotFound()
    return order


def transition_error(order: Order, to_status: OrderStatus) -> InvalidOrderTransition:
    verb = _VERBS.get(to_status, to_status.value)
    return InvalidOrderTransition(
        f"Order {order.number} is {order.status.label.lower()}: it cannot be {verb}."
    )


def change_status(
    order: Order,
    to_status: OrderStatus,
    *,
    actor_user_id: int | None,
    note: str = "",
    values: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    before: dict[str, Any] | None = None,
) -> bool:
    """Move a locked ``order`` to ``to_status`` if it is still in the status read.

    Returns False when another transaction changed it first. Raises InvalidOrderTransition
    when the state machine forbids the move. Side effects: one UPDATE (the status, the
    timestamp of the new status, ``values``) and one OrderEvent row; for a staff member's
    step, an audit entry too (the status before and after, the note and ``details``).
    """
    from_status = order.status
    if not can_change(order, to_status):
        raise transition_error(order, to_status)
    changes: dict[str, Any] = dict(values or {})
    changes["status"] = to_status
    stamp: datetime = clock.utcnow()
    if to_status in TIMESTAMPS:
        changes[TIMESTAMPS[to_status]] = stamp
    result = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == from_status)
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.expire(order)
        return False
    record_event(
        order,
        from_status,
        to_status,
        actor_user_id=actor_user_id,
        note=note,
        at=stamp,
        details=details,
        before=before,
    )
    db.session.expire(order)
    log.info("order %s: %s -> %s", order.number, from_status.value, to_status.value)
    return True


def record_event(
    order: Order,
    from_status: OrderStatus | None,
    to_status: OrderStatus,
    *,
    actor_user_id: int | None,
    note: str = "",
    at: datetime | None = None,
    action: str | None = None,
    details: dict[str, Any] | None = None,
    before: dict[str, Any] | None = None,
) -> OrderEvent:
    """Write the order's history row; a staff member's step (an actor, on an order already
    placed: placing is the customer's) gets its audit entry too, named ``action`` (by default
    for the status reached), with the note and ``details`` among the values after and
    ``before`` among those before."""
    event = OrderEvent(
        order_id=order.id,
        from_status=None if from_status is None else from_status.value,
        to_status=to_status.value,
        actor_user_id=actor_user_id,
        note=(note or "").strip()[:NOTE_LENGTH],
        created_at=at or clock.utcnow(),
    )
    db.session.add(event)
    db.session.flush()
    if from_status is not None:
        audit.record(
            action or _AUDIT_ACTIONS.get(to_status, f"order.{to_status.value}"),
            actor_user_id=actor_user_id,
            object_type="order",
            object_id=order.number,
            object_label=order.number,
            before={"status": from_status.value, **(before or {})},
            after={"status": to_status.value, "note": event.note, **(details or {})},
        )
    return event


def change_result(order: Order, previous: OrderStatus, changed: bool) -> OrderChange:
    """The outcome of a step on ``order`` (re-read: ``change_status`` expired it)."""
    return OrderChange(
        order_id=order.id,
        number=order.number,
        previous_status=previous,
        status=order.status,
        changed=changed,
    )
