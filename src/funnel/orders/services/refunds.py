"""Refunding an order, in full or in part, through the gateway that took its payment."""

from __future__ import annotations

import hashlib
from enum import StrEnum

from funnel.accounts.permissions import Permission
from funnel.core.database import in_transaction
from funnel.core.money import Money
from funnel.inventory.models import MovementReason
from funnel.orders.emails import schedule_order_email
from funnel.orders.errors import InvalidOrderInput, OrderPaymentMissing
from funnel.orders.models import NOTE_LENGTH, Order, OrderStatus
from funnel.orders.services.results import OrderRefund
from funnel.orders.services.state import (
    change_result,
    change_status,
    lock_order,
    order_transaction,
    read_order,
    record_event,
    transition_error,
)
from funnel.orders.services.stock import return_held_stock
from funnel.orders.services.workflow import check_permission
from funnel.payments import queries as payment_queries
from funnel.payments import services as payments
from funnel.payments.errors import NothingLeftToRefund
from funnel.payments.models import PaymentStatus

REFUNDABLE = frozenset(
    {OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.DELIVERED, OrderStatus.REFUNDED}
)
DASHBOARD_TOKEN_LENGTHS = range(16, 65)


class RefundSource(StrEnum):
    """Where a staff refund request comes from: each keeps its own key format."""

    DASHBOARD = "dashboard"  # the order page's form, with a one-time token in the page
    STAFF_API = "staff_api"  # the staff API, with the caller's Idempotency-Key header


def refund_request_key(source: RefundSource, client_key: str, *, staff_user_id: int) -> str:
    """The idempotency key ``refund_order`` is given for a staff request carrying ``client_key``.

    The key is stored for good (``payment_transactions.idempotency_key``) and sent to the
    gateway, so its formats never change: a retry after a deploy must find the first attempt.

    - dashboard: ``order-refund-<token>``, the form's one-time token (16 to 64 printable ASCII
      characters, surrounding spaces ignored);
    - staff API: ``staff-api-refund-<staff_user_id>-<hash>``, the first 40 hex digits of the
      SHA-256 of the header (surrounding spaces ignored): the key column is bounded, and the
      gateway sees no text the caller chose. Keys are per staff member.

    Raises InvalidOrderInput (field ``idempotency_key``) for a dashboard token that is not one.
    """
    key = client_key.strip()
    if source == RefundSource.DASHBOARD:
        if len(key) not in DASHBOARD_TOKEN_LENGTHS or not key.isascii() or not key.isprintable():
            raise InvalidOrderInput(fields={"idempotency_key": ["Reload the page and retry."]})
        return f"order-refund-{key}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"staff-api-refund-{staff_user_id}-{digest}"


def refund_order(
    order: Order | int | str,
    amount: Money | None = None,
    *,
    idempotency_key: str,
    actor_user_id: int | None,
    reason: str = "",
    return_items: bool = False,
) -> OrderRefund:
    """Refund ``amount`` of a paid (shipped, delivered) order; None refunds all that is left.

    The refund goes through ``payments.refund_payment`` (outside any transaction) under
    ``idempotency_key``: a double submit or a retry with the same key refunds once (the replay
    returns ``amount`` zero and changes nothing). When the payment is refunded in full the
    order becomes ``refunded``; a partial refund leaves the status and records an event.
    ``return_items`` gives back to stock every unit the order still holds.
    Call outside ``transaction()``.
    Raises OrderNotFound, InvalidOrderTransition (not paid, or cancelled), InvalidOrderInput
    (amount in another currency, not positive, reason too long), OrderPaymentMissing (no
    payment that took money), PermissionDenied (the actor lacks ``orders.refund``: admins
    only by default, since a refund moves money), and payments' NothingLeftToRefund
    (refunded in full: the one answer however refunds met), RefundExceedsPayment,
    RefundFailed, GatewayUnavailable (retry with the same key), PaymentIdempotencyKeyReused.
    Side effects: a refund at the gateway, an OrderEvent, maybe the status and
    ``refunded_at``, ``refund_return`` stock movements, the refund email after commit.
    """
    if in_transaction():
        raise RuntimeError(
            "refund_order() calls the payment gateway: call it outside transaction()"
        )
    check_permission(actor_user_id, Permission.ORDERS_REFUND)
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if len(reason) > NOTE_LENGTH:
        raise InvalidOrderInput(fields={"reason": [f"At most {NOTE_LENGTH} characters."]})
    current = read_order(order)
    if current.status not in REFUNDABLE:
        raise transition_error(current, OrderStatus.REFUNDED)
    if amount is not None and (
        not isinstance(amount, Money) or amount.currency != current.currency or amount.amount <= 0
    ):
        raise InvalidOrderInput(
            fields={"amount": [f"Give an amount above zero, in {current.currency}."]}
        )
    payment = payment_queries.live_payment_for(current.number)
    if payment is None or payment.status not in {
        PaymentStatus.SUCCEEDED,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUNDED,
    }:
        raise OrderPaymentMissing(f"Order {current.number} has no payment that took money.")
    to_refund = amount if amount is not None else payment.refundable
    if to_refund.amount <= 0:
        raise NothingLeftToRefund(f"Order {current.number} has been refunded in full.")
    result = payments.refund_payment(
        payment.id, to_refund, idempotency_key, reason=reason, actor_user_id=actor_user_id
    )
    is_full = result.payment_status == PaymentStatus.REFUNDED
    refunded_now = result.amount if result.changed else Money.zero(current.currency)
    note = f"refund of {result.amount.format()}" + (f": {reason}" if reason else "")
    refunded = {
        "refund_amount_minor": result.amount.amount,
        "currency": result.amount.currency,
        "refunded_total_minor": result.refunded.amount,
    }

    with order_transaction():
        locked = lock_order(current.id)
        previous = locked.status
        changed = False
        if is_full and previous in {
            OrderStatus.PAID,
            OrderStatus.FULFILLED,
            OrderStatus.DELIVERED,
        }:
            changed = change_status(
                locked,
                OrderStatus.REFUNDED,
                actor_user_id=actor_user_id,
                note=note,
                details=refunded,
            )
        elif result.changed:
            # A partial refund is no transition, but the history shows who gave what back.
            record_event(
                locked,
                previous,
                previous,
                actor_user_id=actor_user_id,
                note=note,
                action="order.refunded_partly",
                details=refunded,
            )
        returned = False
        if return_items and (changed or result.changed):
            returned = bool(
                return_held_stock(
                    locked,
                    reason=MovementReason.REFUND_RETURN,
                    actor_user_id=actor_user_id,
                    note=note,
                )
            )
        if result.changed:
            schedule_order_email("refunded", locked.id, refund_minor=result.amount.amount)
        return OrderRefund(
            change=change_result(locked, previous, changed),
            amount=refunded_now,
            refunded_total=result.refunded,
            is_full=is_full,
            stock_returned=returned,
        )
