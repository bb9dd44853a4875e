"""The order's way forward: paid, shipped, delivered; and cash on delivery, which ships
before it is paid and is paid when delivered (bank transfers: ``bank_transfers``)."""

from __future__ import annotations

from funnel.accounts import queries as account_queries
from funnel.accounts.permissions import Permission, require_permission
from funnel.analytics import services as analytics
from funnel.analytics.models import FunnelStage
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
    read_order,
    transition_error,
)
from funnel.payments import queries as payment_queries
from funnel.payments import services as payments

OrderReference = Order | int | str


def check_permission(
    actor_user_id: int | None, permission: Permission = Permission.ORDERS_FULFIL
) -> None:
    """Staff steps name a staff member holding ``permission`` (None: the system, which may do
    every step). Raises PermissionDenied for a customer, an unknown account, or staff without
    the permission (``orders.refund`` is the admins' by default: it moves money)."""
    if actor_user_id is None:
        return
    require_permission(account_queries.get_user(actor_user_id), permission)


def mark_paid(
    order_number_or_id: OrderReference, *, actor_user_id: int | None = None, note: str = ""
) -> OrderChange:
    """Move an order from ``pending_payment`` to ``paid`` (once: idempotent).

    The checkout calls it when the payment succeeds (its confirm page or its webhook, perhaps
    both at once): only one call changes the order. An order already paid (or past paid)
    returns ``changed`` False and writes nothing. Joins the caller's transaction.
    Raises OrderNotFound, InvalidOrderTransition (a cancelled order: refund the payment).
    Side effects: status, ``paid_at``, an OrderEvent; after the commit the confirmation
    email; the ``order_paid`` funnel event (with the order's visitor id, once per order).
    """
    with order_transaction():
        order = lock_order(order_number_or_id)
        previous = order.status
        if order.paid_at is not None:
            return change_result(order, previous, changed=False)
        if previous != OrderStatus.PENDING_PAYMENT:
            raise transition_error(order, OrderStatus.PAID)
        changed = change_status(
            order, OrderStatus.PAID, actor_user_id=actor_user_id, note=note or "payment received"
        )
        if changed:
            schedule_order_email("confirmation", order.id)
            record_paid_funnel_event(order)
        return change_result(order, previous, changed)


def record_paid_funnel_event(order: Order) -> None:
    analytics.record_event(
        FunnelStage.ORDER_PAID,
        order.visitor_id,
        user_id=order.user_id,
        order_reference=order.number,
        dedupe_key=f"order_paid:{order.number}",
    )


def _advance(
    reference: OrderReference,
    from_status: OrderStatus,
    to_status: OrderStatus,
    *,
    actor_user_id: int | None,
    note: str,
) -> OrderChange:
    check_permission(actor_user_id, Permission.ORDERS_FULFIL)
    with order_transaction():
        order = lock_order(reference)
        previous = order.status
        if previous == to_status:
            return change_result(order, previous, changed=False)
        if previous != from_status and not _ships_before_payment(order, to_status):
            raise transition_error(order, to_status)
        changed = change_status(order, to_status, actor_user_id=actor_user_id, note=note)
        return change_result(order, previous, changed)


def mark_delivered(
    order: OrderReference,
    *,
    actor_user_id: int | None = None,
    note: str = "",
    amount_received: Money | None = None,
) -> OrderChange:
    """Mark a shipped (``fulfilled``) order ``delivered``; again changes nothing.

    A cash-on-delivery order not yet paid is paid at this step (``collect_cash_on_delivery``):
    ``amount_received`` (default: the amount due) is the cash the carrier took; it belongs to
    such an order only.
    Raises OrderNotFound, InvalidOrderTransition, PermissionDenied, InvalidOrderInput (an
    amount for an order not paid on delivery), and for cash on delivery OrderPaymentMissing
    and ManualAmountMismatch. Side effects: status, ``delivered_at``, an OrderEvent.
    """
    if amount_received is not None or read_order(order).is_awaiting_cash:
        return collect_cash_on_delivery(
            order, actor_user_id=actor_user_id, amount_received=amount_received, note=note
        )
    return _advance(
        order,
        OrderStatus.FULFILLED,
        OrderStatus.DELIVERED,
        actor_user_id=actor_user_id,
        note=note,
    )


# -- cash on delivery: shipped unpaid, paid when delivered ------------------------------------


def _ships_before_payment(order: Order, to_status: OrderStatus) -> bool:
    """A cash-on-delivery order awaiting payment may be shipped (the workflow says which)."""
    return (
        to_status == OrderStatus.FULFILLED
        and order.status == OrderStatus.PENDING_PAYMENT
        and to_status in order.transitions
    )


def collect_cash_on_delivery(
    order: OrderReference,
    *,
    actor_user_id: int | None,
    amount_received: Money | None = None,
    note: str = "",
) -> OrderChange:
    """Deliver a shipped cash-on-delivery order and record the cash the carrier took (the
    amount due): its payment succeeds, the order is ``delivered`` with ``paid_at`` set, in
    one transaction. Delivering it again changes nothing (``changed`` False).
    Raises OrderNotFound, InvalidOrderTransition (not shipped), InvalidOrderInput (the order
    is not paid on delivery, or is paid already, and an amount is given), OrderPaymentMissing
    (no pending cash payment), ManualAmountMismatch (``amount_received`` is not the amount
    due; nothing changes), PermissionDenied (no staff member, or without ``orders.fulfil``).
    Side effects: those of ``mark_manual_payment_received``; status, ``delivered_at``,
    ``paid_at``, an OrderEvent; the ``order_paid`` funnel event.
    """
    if actor_user_id is None:
        raise PermissionDenied("A staff member records the cash received.")
    check_permission(actor_user_id, Permission.ORDERS_FULFIL)
    with order_transaction():
        locked = lock_order(order)
        previous = locked.status
        if not locked.is_awaiting_cash:
            if amount_received is not None:
                raise InvalidOrderInput(
                    fields={"amount_received": ["Only cash collected on delivery has an amount."]}
                )
            return _advance(
                locked.id,
                OrderStatus.FULFILLED,
                OrderStatus.DELIVERED,
                actor_user_id=actor_user_id,
                note=note,
            )
        if previous != OrderStatus.FULFILLED:
            raise transition_error(locked, OrderStatus.DELIVERED)
        payment = payment_queries.live_payment_for(locked.number)
        if payment is None or payment.gateway != locked.payment_gateway:
            raise OrderPaymentMissing(f"Order {locked.number} has no cash payment to collect.")
        payments.mark_manual_payment_received(
            payment.id, actor_user_id, amount_received=amount_received, note=note or "cash received"
        )
        changed = change_status(
            locked,
            OrderStatus.DELIVERED,
            actor_user_id=actor_user_id,
            note=note or "delivered, cash received",
            values={"paid_at": clock.utcnow()},
        )
        if changed:
            record_paid_funnel_event(locked)
        return change_result(locked, previous, changed)
