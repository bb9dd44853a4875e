"""Capturing an order's held card payment when it ships (the shop's "capture at fulfilment").

With that setting checkout only authorises card payments: the customer's bank holds the sum,
and the order is placed and confirmed (``paid``) at once. Staff recording the order's first
shipment take the money before the shipment is written: the gateway's capture of the whole
authorised amount, outside any transaction, under the payment's own idempotency key
(``payments.capture_payment``: a retry, or two shipments at once, capture once). A capture the
gateway refuses (declined, an authorisation expired) or cannot answer leaves the order as it
was, with no shipment. Later shipments find the payment captured and call nothing, so a partial
first shipment captures the whole sum.
"""

from __future__ import annotations

from funnel.core.database import in_transaction
from funnel.orders.errors import OrderPaymentNotCaptured
from funnel.orders.models import Order, OrderStatus
from funnel.payments import errors as payment_errors
from funnel.payments import queries as payment_queries
from funnel.payments import services as payments
from funnel.payments.models import Payment, PaymentStatus


def held_payment(order: Order) -> Payment | None:
    """The paid order's payment that is authorised and not yet captured, if any."""
    if order.status != OrderStatus.PAID:
        return None
    payment = payment_queries.live_payment_for(order.number)
    if payment is None or payment.status != PaymentStatus.AUTHORIZED:
        return None
    return payment


def capture_held_payment(order: Order, *, actor_user_id: int | None) -> bool:
    """Capture the order's held payment, if it has one; True when one was captured now.

    Call outside ``transaction()`` (a gateway call; RuntimeError otherwise).
    Raises OrderPaymentNotCaptured (refused, or the gateway did not answer: nothing changed).
    Side effects: the payment's capture transaction and its status ``succeeded``.
    """
    payment = held_payment(order)
    if payment is None:
        return False
    if in_transaction():
        raise RuntimeError("capturing calls the payment gateway: call it outside transaction()")
    try:
        payments.capture_payment(payment.id, actor_user_id=actor_user_id)
    except payment_errors.GatewayUnavailable as error:
        raise OrderPaymentNotCaptured(
            f"The payment gateway did not answer, so the card payment for order {order.number} "
            "was not captured and nothing was shipped. Try again in a few minutes."
        ) from error
    except payment_errors.InvalidTransition as error:
        if payment_queries.get_payment(payment.id).status == PaymentStatus.SUCCEEDED:
            return False  # captured meanwhile by another shipment of the same order
        raise OrderPaymentNotCaptured(
            f"The card payment for order {order.number} could not be captured (the bank "
            "refused it, or its authorisation has expired), so nothing was shipped. Contact the "
            "customer before shipping this order."
        ) from error
    return True
