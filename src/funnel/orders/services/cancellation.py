"""Cancelling orders: by staff (or later the customer), and unpaid bank transfers by a job.

Payments' gateway calls (void, refund) run outside any transaction, so the order of steps is:
first settle the money at the gateway (void the live payment of an unpaid order, refund a paid
one in full), then, in one transaction, cancel the order, give back its stock and schedule the
email. Money first: the other way round, a payment that succeeds after the order was cancelled
would take money for goods put back on the shelf. A void that finds the payment already taken
stops the cancellation (``OrderPaymentReceived``: refund instead).
"""

from __future__ import annotations

import logging

from funnel.accounts.permissions import Permission
from funnel.core.database import in_transaction
from funnel.core.errors import DomainError
from funnel.inventory.models import MovementReason
from funnel.orders import queries
from funnel.orders.emails import schedule_order_email
from funnel.orders.errors import (
    InvalidOrderInput,
    OrderPartlyShipped,
    OrderPaymentMissing,
    OrderPaymentReceived,
)
from funnel.orders.models import NOTE_LENGTH, Order, OrderStatus
from funnel.orders.services.results import OrderChange
from funnel.orders.services.state import (
    change_result,
    change_status,
    lock_order,
    order_transaction,
    read_order,
    transition_error,
)
from funnel.orders.services.stock import return_held_stock
from funnel.orders.services.workflow import check_permission
from funnel.payments import errors as payment_errors
from funnel.payments import queries as payment_queries
from funnel.payments import services as payments
from funnel.payments.models import PaymentStatus

log = logging.getLogger(__name__)

CANCELLABLE = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.PAID})
TAKEN = frozenset(
    {PaymentStatus.SUCCEEDED, PaymentStatus.AUTHORIZED, PaymentStatus.PARTIALLY_REFUNDED}
)


CUSTOMER_REASON = "cancelled by the customer"


def may_customer_cancel(order: Order) -> bool:
    """The customer may cancel ``order`` now: awaiting payment or paid, nothing shipped (the
    cancel button shows then; ``cancel_order`` checks it again when asked)."""
    return order.status in CANCELLABLE and not queries.has_shipments(order.id)


def cancel_by_customer(
    order: Order | int | str, *, user_id: int | None, reason: str = ""
) -> OrderChange:
    """The customer cancels their own order (``user_id``; None: a guest through the order's
    signed link, checked by the caller). ``reason`` is optional: a customer need not explain.
    Raises and does what ``cancel_order`` does (the full refund, the stock, the email)."""
    text = reason.strip() if isinstance(reason, str) else ""
    why = f"{CUSTOMER_REASON}: {text}" if text else CUSTOMER_REASON
    return cancel_order(order, reason=why[:NOTE_LENGTH], actor_user_id=user_id)


def _checked_reason(reason: str) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > NOTE_LENGTH:
        raise InvalidOrderInput(
            fields={"reason": [f"Give a reason, at most {NOTE_LENGTH} characters."]}
        )
    return text


def _check_may_cancel(order: Order, actor_user_id: int | None) -> None:
    """Staff with ``orders.fulfil``, the order's own customer, or the system (None); a paid
    order is refunded in full when cancelled (a partly paid one gives back its part), so staff
    also need ``orders.refund`` for it.
    Raises PermissionDenied."""
    if actor_user_id is None or actor_user_id == order.user_id:
        return
    check_permission(actor_user_id, Permission.ORDERS_FULFIL)
    if order.status == OrderStatus.PAID or _is_partly_paid(order):
        check_permission(actor_user_id, Permission.ORDERS_REFUND)


def _is_partly_paid(order: Order) -> bool:
    """Part of its bank transfer has arrived: cancelling gives that part back."""
    payment = payment_queries.live_payment_for(order.number)
    return payment is not None and payment.is_partly_received


def _void_live_payment(
    order: Order, reason: str, actor_user_id: int | None, keep_if_received: bool = False
) -> None:
    payment = payment_queries.live_payment_for(order.number)
    if payment is None:
        return
    try:
        payments.void_payment(
            payment.id,
            reason=reason,
            actor_user_id=actor_user_id,
            keep_if_received=keep_if_received,
        )
    except payment_errors.InvalidTransition as error:
        if payment_queries.get_payment(payment.id).status in TAKEN:
            raise OrderPaymentReceived(
                f"The payment for order {order.number} has been received: refund the order "
                "instead of cancelling it."
            ) from error
        raise


def _refund_in_full(order: Order, reason: str, actor_user_id: int | None) -> None:
    payment = payment_queries.live_payment_for(order.number)
    if payment is None:
        return  # marked paid without a payment here: no money to give back
    if payment.status == PaymentStatus.AUTHORIZED:
        payments.void_payment(payment.id, reason=reason, actor_user_id=actor_user_id)
        return
    left = payment.refundable
    if left.amount > 0:
        payments.refund_payment(
            payment.id,
            left,
            f"order-{order.number}-cancel-{left.amount}",
            reason=reason,
            actor_user_id=actor_user_id,
        )
    if payment_queries.get_payment(payment.id).status != PaymentStatus.REFUNDED:
        raise OrderPaymentMissing(
            f"The payment for order {order.number} is not refunded in full yet; try again."
        )


def _check_nothing_shipped(order: Order) -> None:
    if queries.has_shipments(order.id):
        raise OrderPartlyShipped(
            f"Part of order {order.number} has shipped and cannot be cancelled: ship the "
            "rest, or refund what will not ship."
        )


def cancel_order(
    order: Order | int | str,
    *,
    reason: str,
    actor_user_id: int | None = None,
    notify_customer: bool = True,
    keep_if_received: bool = False,
) -> OrderChange:
    """Cancel an order that is awaiting payment or paid (not yet shipped).

    Awaiting payment: its live payment, if any, is voided at the gateway. Paid: its payment is
    refunded in full first (a paid order is cancelled only together with a full refund).
    Then the order becomes ``cancelled`` and every unit of stock it holds goes back.
    Cancelling a cancelled order changes nothing (``changed`` False). Call outside
    ``transaction()`` (gateway calls).
    ``actor_user_id`` is a staff member, the order's own customer, or None (the system).
    ``notify_customer`` False sends no email: a declined payment attempt is not an order the
    customer thinks of as placed, and the checkout page already says what happened.
    ``keep_if_received``: an order whose bank transfer arrived in part is not cancelled
    (InvalidTransition of payments; the deadline job), even if the part arrives meanwhile.
    Raises InvalidOrderInput (no reason), OrderNotFound, PermissionDenied (another customer;
    staff without ``orders.fulfil``, or without ``orders.refund`` for a paid order),
    InvalidOrderTransition (shipped, delivered or refunded), OrderPartlyShipped (some units
    have shipped: nothing is cancelled, voided or refunded), OrderPaymentReceived (the unpaid
    order's payment went through meanwhile: refund instead), the errors of ``void_payment``
    and ``refund_payment`` (GatewayUnavailable: retry).
    Side effects: a void or refund, status, ``cancelled_at``, an OrderEvent,
    ``cancellation_return`` stock movements, the cancellation email after the commit (unless
    ``notify_customer`` is False).
    """
    if in_transaction():
        raise RuntimeError(
            "cancel_order() calls the payment gateway: call it outside transaction()"
        )
    reason = _checked_reason(reason)
    current = read_order(order)
    _check_may_cancel(current, actor_user_id)
    if current.status == OrderStatus.CANCELLED:
        return change_result(current, current.status, changed=False)
    if current.status not in CANCELLABLE:
        raise transition_error(current, OrderStatus.CANCELLED)
    _check_nothing_shipped(current)
    if current.status == OrderStatus.PENDING_PAYMENT:
        _void_live_payment(current, reason, actor_user_id, keep_if_received)
    else:
        _refund_in_full(current, reason, actor_user_id)

    with order_transaction():
        locked = lock_order(current.id)
        previous = locked.status
        if previous == OrderStatus.CANCELLED:
            return change_result(locked, previous, changed=False)
        if previous != current.status:
            # It moved while the gateway was called (paid by a path that needs no payment
            # row, or shipped): nothing is cancelled.
            raise transition_error(locked, OrderStatus.CANCELLED)
        _check_nothing_shipped(locked)  # a shipment recorded while the gateway was called
        changed = change_status(
            locked, OrderStatus.CANCELLED, actor_user_id=actor_user_id, note=reason
        )
        if changed:
            return_held_stock(
                locked,
                reason=MovementReason.CANCELLATION_RETURN,
                actor_user_id=actor_user_id,
                note=f"order cancelled: {reason}",
            )
            if notify_customer:
                schedule_order_email("cancelled", locked.id)
        return change_result(locked, previous, changed)


def cancel_overdue_manual_orders() -> int:
    """Cancel the orders whose bank transfer (``manual`` payment) is still not received after
    ``MANUAL_PAYMENT_DAYS``: payment voided, stock returned, customer emailed. An order whose
    transfer arrived in part is left alone (cancelling it would keep the customer's money, or
    refund it unasked): it is logged and listed for staff. A pending manual
    payment whose order has moved on (or is not an order) is voided so that it stops counting.
    Returns how many orders were cancelled. One failure is logged and the others go on.
    """
    days = payment_queries.manual_payment_days()
    cancelled = 0
    for payment in payment_queries.overdue_manual_payments(partly_received=True):
        # Never cancelled by the job (the customer's money would be kept): staff settle them,
        # from the order list's "partly paid, overdue" section.
        log.warning("order %s is partly paid and overdue", payment.payable_reference)
    for payment in payment_queries.overdue_manual_payments():
        order = queries.find_order(payment.payable_reference)
        try:
            if order is not None and order.status == OrderStatus.PENDING_PAYMENT:
                change = cancel_order(
                    order.id,
                    reason=f"Bank transfer not received within {days} days",
                    actor_user_id=None,
                    keep_if_received=True,
                )
                cancelled += int(change.changed)
            else:
                payments.void_payment(payment.id, reason="the order no longer awaits payment")
        except DomainError:
            log.exception("could not cancel the overdue order %s", payment.payable_reference)
    if cancelled:
        log.info("cancelled %d orders whose bank transfer did not arrive", cancelled)
    return cancelled
