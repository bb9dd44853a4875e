"""Bank transfers staff record as they reach the shop's account: the whole amount, or parts
confirmed as partial payments; the order is paid when what arrived reaches its total.

A retry is recognised by its request key (the page's one-time form token, the API's
``Idempotency-Key``): the same key records nothing the second time. Recording the payment of
an order already paid changes nothing either.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from funnel.accounts.permissions import Permission
from funnel.core import clock
from funnel.core.errors import PermissionDenied
from funnel.core.money import Money
from funnel.orders.emails import schedule_order_email
from funnel.orders.errors import InvalidOrderInput, OrderPaymentMissing
from funnel.orders.models import Order, OrderStatus
from funnel.orders.services.results import OrderChange
from funnel.orders.services.state import (
    change_result,
    change_status,
    lock_order,
    order_transaction,
    record_event,
    transition_error,
)
from funnel.orders.services.workflow import check_permission, record_paid_funnel_event
from funnel.payments import queries as payment_queries
from funnel.payments import services as payments
from funnel.payments.services import Receipt
from funnel.settings.queries import current_settings


def shop_today() -> date:
    """Today in the shop's time zone (the day on the shop's bank statement)."""
    return clock.utcnow().astimezone(ZoneInfo(current_settings().time_zone)).date()


def _checked_day(received_on: date | None) -> date:
    today = shop_today()
    if received_on is None:
        return today
    if received_on > today:
        raise InvalidOrderInput(
            f"{received_on.isoformat()} is in the future.",
            fields={"received_on": ["The date received cannot be in the future."]},
        )
    return received_on


def _amounts(receipt: Receipt) -> dict[str, Any]:
    return {"paid_so_far": receipt.received.format(), "still_due": receipt.still_due.format()}


def record_manual_payment(
    order: Order | int | str,
    *,
    actor_user_id: int,
    amount_received: Money | None = None,
    received_on: date | None = None,
    is_partial: bool = False,
    request_key: str | None = None,
    note: str = "",
) -> OrderChange:
    """Staff record a bank transfer received on ``received_on`` (default today in the shop's
    time zone; never in the future) for an order paid with the ``manual`` gateway.

    ``amount_received`` (default: all that is still due) below what is due is refused unless
    ``is_partial``: the order then stays awaiting payment with what it received so far. When
    the sums received reach the total the payment succeeds and the order is paid, in one
    transaction. A ``request_key`` already recorded, or an order already paid, changes nothing
    (``changed`` False). Cash on delivery is recorded at delivery (``mark_delivered``).
    Raises OrderNotFound, InvalidOrderTransition (cancelled), OrderPaymentMissing (no live
    bank transfer), InvalidOrderInput (a day in the future), ManualAmountMismatch (less than
    due, not partial), ManualAmountAboveDue, PermissionDenied.
    Side effects: a charge with its day; an OrderEvent and an audit entry (paid so far and
    still due, before and after); when paid, ``paid_at``, the confirmation email and the
    ``order_paid`` funnel event.
    """
    if actor_user_id is None:
        raise PermissionDenied("A staff member records a payment received.")
    check_permission(actor_user_id, Permission.ORDERS_FULFIL)
    day = _checked_day(received_on)
    with order_transaction():
        locked = lock_order(order)
        previous = locked.status
        if locked.paid_at is not None:
            return change_result(locked, previous, changed=False)
        if previous != OrderStatus.PENDING_PAYMENT:
            raise transition_error(locked, OrderStatus.PAID)
        payment = payment_queries.live_payment_for(locked.number)
        if payment is None or payment.gateway != "manual":
            raise OrderPaymentMissing(f"Order {locked.number} has no bank transfer awaiting funds.")
        receipt = payments.record_bank_transfer(
            payment.id,
            actor_user_id,
            amount=amount_received,
            received_on=day,
            request_key=request_key or secrets.token_urlsafe(18),
            is_partial=is_partial,
            note=note,
        )
        if not receipt.changed:
            return change_result(locked, previous, changed=False)
        due_before = payment.amount_minor - receipt.received_before.amount
        before = {
            "paid_so_far": receipt.received_before.format(),
            "still_due": Money(due_before, payment.currency).format(),
        }
        details = {
            "amount_received": receipt.amount.format(),
            "received_on": day.isoformat(),
            **_amounts(receipt),
        }
        if not receipt.is_complete:
            record_event(
                locked,
                previous,
                previous,
                actor_user_id=actor_user_id,
                note=note
                or f"partial payment of {receipt.amount.format()} received on {day.isoformat()}"
                f" ({receipt.still_due.format()} still due)",
                action="order.partial_payment_received",
                details=details,
                before=before,
            )
            return change_result(locked, previous, changed=True)
        changed = change_status(
            locked,
            OrderStatus.PAID,
            actor_user_id=actor_user_id,
            note=note or f"bank transfer received on {day.isoformat()}",
            details=details,
            before=before,
        )
        if changed:
            schedule_order_email("confirmation", locked.id)
            record_paid_funnel_event(locked)
        return change_result(locked, previous, changed)
