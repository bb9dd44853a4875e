"""After the order is placed: the payment's outcome, from the customer or from the gateway.

``pay`` submits the payment (outside any transaction: the gateway is a network call) and
applies the answer; ``return_from_confirmation`` does the same when the customer comes back
from 3-D Secure; ``receive_webhook`` when the gateway tells us later. They share one rule:

- paid: the order is marked paid (once, whoever comes first), the checkout completed and the
  cart emptied, in one transaction;
- processing (decided later by a webhook), a bank transfer awaited or cash on delivery: the
  checkout is completed and the cart emptied; a bank transfer gets its "awaiting payment"
  email, cash on delivery its "pay on delivery" confirmation;
- requires action: nothing yet, the customer goes to the gateway's page;
- failed: the order is cancelled (its stock goes back; nothing was charged) and the checkout
  reopened with a new one-time token: the cart is intact and the customer can try again.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from funnel.cart import services as cart
from funnel.checkout import queries
from funnel.checkout.models import CheckoutStatus
from funnel.checkout.services.common import holder_of, new_submit_token
from funnel.core.database import transaction
from funnel.core.errors import DomainError
from funnel.inventory import services as inventory
from funnel.inventory.errors import InsufficientStock, ReservationLimitReached
from funnel.orders import queries as order_queries
from funnel.orders import services as orders
from funnel.orders.errors import InvalidOrderTransition, OrderNotFound, OrderPaymentReceived
from funnel.orders.models import Order, OrderStatus
from funnel.payments import queries as payment_queries
from funnel.payments import services as payments
from funnel.payments.errors import GatewayUnavailable, InvalidCard
from funnel.payments.gateways import CASH_ON_DELIVERY, STAFF_SETTLED_GATEWAYS
from funnel.payments.gateways.base import CardDetails
from funnel.payments.models import PaymentStatus
from funnel.payments.services import PaymentResult

log = logging.getLogger(__name__)

CANCEL_REASON_LENGTH = 500


class OutcomeKind(enum.StrEnum):
    PAID = "paid"
    PROCESSING = "processing"
    AWAITING_TRANSFER = "awaiting_transfer"
    PAY_ON_DELIVERY = "pay_on_delivery"
    REQUIRES_ACTION = "requires_action"
    FAILED = "failed"


@dataclass(frozen=True)
class CheckoutOutcome:
    kind: OutcomeKind
    number: str
    message: str
    next_action_url: str | None = None


def _complete_checkout(order: Order) -> None:
    """The order's checkout is done: completed, and its cart emptied (joins the transaction)."""
    checkout = queries.checkout_for_order(order.id, lock=True)
    if checkout is None or checkout.status != CheckoutStatus.OPEN:
        return
    checkout.status = CheckoutStatus.COMPLETED
    checkout.open_cart_id = None
    cart.clear_cart(checkout.cart_id)


def _settle_paid(number: str) -> bool:
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
    _complete_checkout(order)
    return True


def _give_back(result: PaymentResult) -> None:
    """A payment arrived for an order that can no longer be honoured: the money goes back
    (a held authorisation is voided, a charge refunded in full). Call outside a transaction."""
    reason = "the order was cancelled before its payment arrived"
    if result.status == PaymentStatus.AUTHORIZED:
        payments.void_payment(result.payment_id, reason=reason)
    else:
        payments.refund_payment(
            result.payment_id,
            result.amount,
            f"order-{result.payable_reference}-unhonoured-payment",
            reason=reason,
        )


def fail_attempt(number: str, message: str) -> None:
    """The order's payment failed: cancel the order (stock back, nothing was charged), then
    reopen its checkout with a new one-time token and hold the cart's stock again.

    Call outside a transaction. A payment that was received meanwhile settles the order.
    """
    order = order_queries.find_order(number)
    if order is None:
        return
    if order.status == OrderStatus.PENDING_PAYMENT:
        try:
            orders.cancel_order(
                order.id,
                reason=f"Payment failed: {message}"[:CANCEL_REASON_LENGTH],
                notify_customer=False,
            )
        except OrderPaymentReceived:
            with transaction():
                _settle_paid(number)
            return
    with transaction():
        checkout = queries.checkout_for_order(order.id, lock=True)
        if checkout is None or checkout.status != CheckoutStatus.OPEN:
            return
        checkout.order_id = None
        new_submit_token(checkout)
        lines = order_queries.order_lines(order)
        quantities = {line.variant_id: line.quantity for line in lines if line.variant_id}
        try:
            inventory.reserve(holder_of(checkout), quantities, owner=checkout.reservation_owner)
        except (InsufficientStock, ReservationLimitReached) as error:
            # Gone to someone else meanwhile, or more than this client may hold: the customer
            # is told again when they review the checkout.
            log.info("checkout %s: the stock cannot be held again (%s)", checkout.id, error.code)


def abandon_awaiting_action(number: str) -> bool:
    """The customer starts the checkout again while the order's payment waits for their own
    confirmation step (3-D Secure left unfinished): give that attempt up, as a failed one, so
    the cart can be paid with another card. The payment is voided at the gateway first, so a
    confirmation finished meanwhile in another tab wins (the order is then paid, or the gateway
    refuses the void and nothing is given up).

    Returns True when the attempt was given up and the checkout reopened; False when the
    order's payment is anything else (paid, processing at the gateway, a bank transfer), which
    only the gateway or staff may settle. Call outside a transaction.
    """
    order = order_queries.find_order(number)
    payment = payment_queries.live_payment_for(number)
    is_awaiting_customer = payment is not None and payment.status == PaymentStatus.REQUIRES_ACTION
    if order is None or order.status != OrderStatus.PENDING_PAYMENT or not is_awaiting_customer:
        return False
    try:
        fail_attempt(number, "The customer started the checkout again.")
    except DomainError:
        log.info("order %s: its unfinished payment could not be given up", number)
        return False
    current = order_queries.find_order(number)
    return current is not None and current.status == OrderStatus.CANCELLED


def awaiting_kind(gateway: str) -> OutcomeKind:
    """What an order awaiting its payment waits for: a bank transfer, the delivery (cash), or
    the gateway's decision."""
    if gateway == CASH_ON_DELIVERY:
        return OutcomeKind.PAY_ON_DELIVERY
    if gateway in STAFF_SETTLED_GATEWAYS:
        return OutcomeKind.AWAITING_TRANSFER
    return OutcomeKind.PROCESSING


def apply_result(result: PaymentResult, *, is_new_order: bool = False) -> CheckoutOutcome:
    """Act on a payment's state (see the module). Call outside a transaction."""
    number = result.payable_reference
    if result.is_paid:
        with transaction():
            is_settled = _settle_paid(number)
        if not is_settled:
            _give_back(result)
            message = "The order was cancelled: the payment is given back."
            return CheckoutOutcome(OutcomeKind.FAILED, number, message)
        return CheckoutOutcome(OutcomeKind.PAID, number, result.message)
    if result.requires_action:
        return CheckoutOutcome(
            OutcomeKind.REQUIRES_ACTION, number, result.message, result.next_action_url
        )
    if result.is_awaiting:
        is_settled_by_staff = result.gateway in STAFF_SETTLED_GATEWAYS
        with transaction():
            order = order_queries.find_order(number)
            if order is not None and order.status == OrderStatus.PENDING_PAYMENT:
                _complete_checkout(order)
                if is_settled_by_staff and is_new_order:
                    orders.send_order_placed_email(order.id)
        return CheckoutOutcome(awaiting_kind(result.gateway), number, result.message)
    fail_attempt(number, result.message)
    return CheckoutOutcome(OutcomeKind.FAILED, number, result.message)


def pay(payment_id: int, card: CardDetails | None = None) -> CheckoutOutcome:
    """Submit a placed order's payment to its gateway and act on the answer.

    An unreachable gateway is asked once more with the same key (it never charges twice), then
    the attempt fails with its message (the order is cancelled once the gateway says it has
    taken no money; until then it waits, and paying again resumes this payment).
    Raises InvalidCard (the order is cancelled first: the customer corrects the card and pays
    again).
    """
    try:
        try:
            result = payments.submit_payment(payment_id, card)
        except GatewayUnavailable:
            result = payments.submit_payment(payment_id, card)
    except GatewayUnavailable as error:
        try:
            fail_attempt(payment_queries.get_payment(payment_id).payable_reference, error.detail)
        except GatewayUnavailable:
            # Whether the gateway took the money is not known yet: the order waits for a retry
            # of the payment (the same payment, asked about first) or the expiry job.
            log.warning("payment %s: outcome unknown, its order is left awaiting", payment_id)
        raise
    except InvalidCard:
        fail_attempt(payment_queries.get_payment(payment_id).payable_reference, "invalid card")
        raise
    return apply_result(result, is_new_order=True)


def return_from_confirmation(number: str) -> CheckoutOutcome:
    """The customer is back from the gateway's confirmation page (3-D Secure): ask the gateway
    and act on the answer. Raises OrderNotFound, GatewayUnavailable."""
    order = order_queries.find_order(number)
    if order is None:
        raise OrderNotFound()
    found = payment_queries.payments_for(order.number)
    if not found:
        raise OrderNotFound()
    result = payments.confirm_payment_action(found[-1].id)
    return apply_result(result)


def receive_webhook(
    gateway: str, raw_body: bytes, headers: Mapping[str, str]
) -> PaymentResult | None:
    """Verify and apply one gateway webhook; a paid payment pays its order in the same
    transaction as the event's record, so a replay or a concurrent duplicate changes nothing
    twice. A failed one cancels its order afterwards; a paid one whose order was cancelled
    meanwhile is given back. Returns None for a replay.

    Raises WebhookSignatureInvalid, WebhookPayloadInvalid, GatewayNotEnabled, PaymentNotFound.
    """
    is_settled = True
    with transaction():
        result = payments.apply_gateway_webhook(gateway, raw_body, headers)
        if result is not None and result.is_paid:
            is_settled = _settle_paid(result.payable_reference)
    if result is not None and not is_settled:
        try:
            _give_back(result)
        except DomainError:
            log.exception("could not give back the payment of %s", result.payable_reference)
    if result is not None and result.changed and result.status == PaymentStatus.FAILED:
        try:
            fail_attempt(result.payable_reference, result.message)
        except DomainError:
            log.exception(
                "could not cancel order %s after its failed payment", result.payable_reference
            )
    return result
