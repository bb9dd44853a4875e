"""Settling a payment with its order: paid once, whoever comes first, or given back.

Shared by the outcomes of the customer's request, the 3-D Secure return, the gateway's webhook
and the expiry job. Each joins the caller's transaction, except ``give_back`` (a gateway call).
"""

from __future__ import annotations

import logging

from funnel.cart import services as cart
from funnel.checkout import queries
from funnel.checkout.models import CheckoutStatus
from funnel.orders import queries as order_queries
from funnel.orders import services as orders
from funnel.orders.errors import InvalidOrderTransition
from funnel.orders.models import Order
from funnel.payments import queries as payment_queries
from funnel.payments import services as payments
from funnel.payments.models import PaymentStatus
from funnel.payments.services import PaymentResult

log = logging.getLogger(__name__)

# A payment in these states holds or awaits money, none taken yet: given back by a void.
NOT_TAKEN = frozenset(
    {
        PaymentStatus.PENDING,
        PaymentStatus.REQUIRES_ACTION,
        PaymentStatus.PROCESSING,
        PaymentStatus.AUTHORIZED,
    }
)


def complete_checkout(order: Order) -> None:
    """The order's checkout is done: completed, and its cart emptied (joins the transaction)."""
    checkout = queries.checkout_for_order(order.id, lock=True)
    if checkout is None or checkout.status != CheckoutStatus.OPEN:
        return
    checkout.status = CheckoutStatus.COMPLETED
    checkout.open_cart_id = None
    cart.clear_cart(checkout.cart_id)


def settle_paid(number: str) -> bool:
    """Mark the order paid and complete its checkout (joins the transaction; idempotent).
    False when the order can no longer take the payment (cancelled meanwhile)."""
    order = order_queries.find_order(number)
    if order is None:
        log.warning("payment for %s succeeded, but there is no such order", number)
        return True  # not an order's payment: nothing here to honour or give back
    try:
        orders.mark_paid(order.id, note="payment succeeded")
    except InvalidOrderTransition:
        log.error("order %s is %s but its payment succeeded: refunding it", number, order.status)
        return False
    complete_checkout(order)
    return True


def give_back(
    result: PaymentResult, reason: str = "the order was cancelled before its payment arrived"
) -> None:
    """A payment arrived for an order that can no longer be honoured: the money goes back
    (one not taken yet is voided, a charge refunded in full). Call outside a transaction."""
    if payment_queries.get_payment(result.payment_id).status in NOT_TAKEN:
        payments.void_payment(result.payment_id, reason=reason)
    else:
        payments.refund_payment(
            result.payment_id,
            result.amount,
            f"order-{result.payable_reference}-unhonoured-payment",
            reason=reason,
        )
