"""After a payment attempt: its outcome, from the customer or from the gateway.

``pay`` submits the attempt's payment (outside any transaction: the gateway is a network call)
and applies the answer; ``return_from_confirmation`` does the same when the customer comes
back from 3-D Secure; ``receive_webhook`` when the gateway tells us later. They share one rule:

- failed (declined, refused): no order is placed; the checkout gets a new one-time token and
  keeps its stock held, the cart intact: the customer tries again. An order already placed
  (3-D Secure refused after it began) is cancelled and its stock held for the checkout again;
- paid, processing (decided later by a webhook), a bank transfer awaited, cash on delivery, or
  the customer's 3-D Secure begun: the attempt's order is placed (``placing``), and then
- paid: the order is marked paid (once, whoever comes first), the checkout completed and the
  cart emptied, in one transaction;
- processing, bank transfer, cash on delivery: the checkout is completed and the cart
  emptied; a bank transfer gets its "awaiting payment" email, cash on delivery its "pay on
  delivery" confirmation;
- requires action: the customer goes to the gateway's page.

A payment that cannot be honoured (the cart changed or sold out while paying, the checkout
moved on, or the order was cancelled meanwhile) is given back: voided while held, refunded
once taken.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace

from funnel.checkout import queries
from funnel.checkout.models import CheckoutStatus
from funnel.checkout.services.common import holder_of, new_submit_token
from funnel.checkout.services.placing import (
    parse_attempt_reference,
    payment_key,
    place_attempt_order,
)
from funnel.checkout.services.settling import complete_checkout, give_back, settle_paid
from funnel.core.database import transaction
from funnel.core.errors import DomainError
from funnel.inventory import services as inventory
from funnel.inventory.errors import InsufficientStock, ReservationLimitReached
from funnel.orders import queries as order_queries
from funnel.orders import services as orders
from funnel.orders.errors import InvalidOrderTransition, OrderNotFound, OrderPaymentReceived
from funnel.orders.models import OrderStatus
from funnel.payments import queries as payment_queries
from funnel.payments import services as payments
from funnel.payments.errors import GatewayUnavailable, InvalidCard
from funnel.payments.gateways import CASH_ON_DELIVERY, STAFF_SETTLED_GATEWAYS
from funnel.payments.gateways.base import CardDetails, GatewayDispute
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
    """What became of a payment attempt. ``number``: its order, None when none was placed
    (a failed attempt); ``checkout_id``: the checkout paid for, when known;
    ``is_given_back``: money was taken or held, and is being given back."""

    kind: OutcomeKind
    number: str | None
    message: str
    next_action_url: str | None = None
    checkout_id: int | None = None
    is_given_back: bool = False


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
                settle_paid(number)
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


def reopen_attempt(checkout_id: int, attempt: int) -> None:
    """The checkout's attempt ended without an order: a new one-time token lets the customer
    pay again. The stock stays held (the attempt renewed the hold) and the cart is as it was.
    An attempt the checkout has moved on from changes nothing. Call outside a transaction."""
    with transaction():
        checkout = queries.checkout_by_id(checkout_id, lock=True)
        if (
            checkout is None
            or checkout.status != CheckoutStatus.OPEN
            or checkout.order_id is not None
            or checkout.payment_attempts != attempt
            or checkout.submit_token_hash is not None
        ):
            return
        new_submit_token(checkout)


def _place_for(result: PaymentResult) -> tuple[PaymentResult, bool] | CheckoutOutcome:
    """Place the order of an attempt whose payment did not fail (paid: the order is paid in
    the same transaction). Returns the result as its order's payment, and whether this call
    placed the order; when no order can be placed for it, gives the money back, reopens the
    checkout and returns the failed outcome."""
    checkout_id, attempt = parse_attempt_reference(result.payable_reference) or (0, 0)
    try:
        with transaction():
            placed = place_attempt_order(result.payment_id)
            if placed.is_new and result.is_paid and not settle_paid(placed.number):
                raise InvalidOrderTransition("The order cannot take its payment any more.")
    except DomainError as error:
        log.warning(
            "checkout %s: no order for payment %s (%s)", checkout_id, result.payment_id, error.code
        )
        try:
            give_back(result, reason=f"no order could be placed: {error.detail}"[:255])
        except DomainError:
            log.exception("could not give back payment %s", result.payment_id)
        reopen_attempt(checkout_id, attempt)
        message = f"{error.detail} Your payment is given back."
        return CheckoutOutcome(
            OutcomeKind.FAILED, None, message, checkout_id=checkout_id, is_given_back=True
        )
    return replace(result, payable_reference=placed.number), placed.is_new


def _is_placeable(result: PaymentResult) -> bool:
    """The attempt's payment took the money, holds it, is on its way, or waits for the
    customer's 3-D Secure or for staff (bank transfer, cash): its order is placed."""
    if result.is_paid or result.requires_action or result.status == PaymentStatus.PROCESSING:
        return True
    return result.status == PaymentStatus.PENDING and result.gateway in STAFF_SETTLED_GATEWAYS


def _apply_to_attempt(result: PaymentResult) -> tuple[PaymentResult, bool] | CheckoutOutcome:
    """An attempt's payment with its order not placed: place it, or end the attempt."""
    checkout_id, attempt = parse_attempt_reference(result.payable_reference) or (0, 0)
    if _is_placeable(result):
        return _place_for(result)
    if result.is_failed:
        reopen_attempt(checkout_id, attempt)
        return CheckoutOutcome(OutcomeKind.FAILED, None, result.message, checkout_id=checkout_id)
    # Sent, and the gateway has not answered yet: the customer pays again later, which asks
    # the gateway first (never a second charge); the expiry job settles it otherwise.
    reopen_attempt(checkout_id, attempt)
    raise GatewayUnavailable("We could not confirm your payment yet. Please try again.")


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
    """Act on a payment's state (see the module). Call outside a transaction.
    Raises GatewayUnavailable for an attempt whose answer is still unknown."""
    is_settled_here = False
    if parse_attempt_reference(result.payable_reference) is not None:
        placed = _apply_to_attempt(result)
        if isinstance(placed, CheckoutOutcome):
            return placed
        result, is_new_order = placed
        is_settled_here = is_new_order and result.is_paid  # by ``_place_for``, placing it
    number = result.payable_reference
    if result.is_paid:
        if not is_settled_here:
            with transaction():
                is_settled = settle_paid(number)
            if not is_settled:
                give_back(result)
                message = "The order was cancelled: the payment is given back."
                return CheckoutOutcome(OutcomeKind.FAILED, number, message, is_given_back=True)
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
                complete_checkout(order)
                if is_settled_by_staff and is_new_order:
                    orders.send_order_placed_email(order.id)
        return CheckoutOutcome(awaiting_kind(result.gateway), number, result.message)
    fail_attempt(number, result.message)
    return CheckoutOutcome(OutcomeKind.FAILED, number, result.message)


def _end_unanswered(payment_id: int, message: str) -> None:
    """The gateway could not be reached: an order's payment fails (its order is cancelled
    once the gateway is known to have taken nothing); an attempt stays as it is, its checkout
    open to pay again (which asks the gateway about this payment first)."""
    reference = payment_queries.get_payment(payment_id).payable_reference
    attempt = parse_attempt_reference(reference)
    if attempt is not None:
        reopen_attempt(*attempt)
        return
    try:
        fail_attempt(reference, message)
    except GatewayUnavailable:
        # Whether the gateway took the money is not known yet: the order waits for a retry
        # of the payment (the same payment, asked about first) or the expiry job.
        log.warning("payment %s: outcome unknown, its order is left awaiting", payment_id)


def _end_refused_card(payment_id: int) -> None:
    """The gateway refused the card's details before taking anything: the attempt's payment
    is cancelled and the checkout reopened (an order's payment fails its order)."""
    reference = payment_queries.get_payment(payment_id).payable_reference
    attempt = parse_attempt_reference(reference)
    if attempt is None:
        fail_attempt(reference, "invalid card")
        return
    try:
        payments.void_payment(payment_id, reason="the card was refused")
    except DomainError:
        log.exception("could not cancel payment %s after its card was refused", payment_id)
    reopen_attempt(*attempt)


def pay(payment_id: int, card: CardDetails | None = None) -> CheckoutOutcome:
    """Submit an attempt's payment to its gateway and act on the answer (see the module).

    An unreachable gateway is asked once more with the same key (it never charges twice),
    then GatewayUnavailable is raised: the checkout can be paid again, which asks the gateway
    about this payment first. Raises InvalidCard (nothing taken: the customer corrects the
    card and pays again).
    """
    try:
        try:
            result = payments.submit_payment(payment_id, card)
        except GatewayUnavailable:
            result = payments.submit_payment(payment_id, card)
    except GatewayUnavailable as error:
        _end_unanswered(payment_id, error.detail)
        raise
    except InvalidCard:
        _end_refused_card(payment_id)
        raise
    return apply_result(result, is_new_order=True)


def order_number_for_return(reference: str) -> str | None:
    """The order a customer coming back from 3-D Secure returns to: ``reference`` is the
    attempt's (``checkout:<id>:<n>``), or an order number. None when the attempt led to no
    order (its payment was given back)."""
    attempt = parse_attempt_reference(reference)
    if attempt is None:
        return reference
    checkout = queries.checkout_by_id(attempt[0])
    if checkout is None:
        return None
    payment = payment_queries.payment_by_key(payment_key(checkout, attempt[1]))
    if payment is None or parse_attempt_reference(payment.payable_reference) is not None:
        return None
    return payment.payable_reference


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
    meanwhile is given back. A payment whose attempt has no order yet (the customer's request
    never heard the answer) places it afterwards, as that request would have, or gives the
    money back. Returns None for a replay.

    A dispute of the payment is noted on its order, and the staff who may refund are emailed,
    once per event.

    Raises WebhookSignatureInvalid, WebhookPayloadInvalid, GatewayNotEnabled, PaymentNotFound.
    """
    is_settled = True
    with transaction():
        result = payments.apply_gateway_webhook(gateway, raw_body, headers)
        is_attempt = result is not None and parse_attempt_reference(result.payable_reference)
        if result is not None and result.is_paid and not is_attempt:
            is_settled = settle_paid(result.payable_reference)
        if result is not None and result.dispute is not None and not is_attempt:
            _note_dispute(result.payable_reference, result.dispute)
    if result is not None and is_attempt:
        # Acted on even for a replay: a request that recorded this answer may have died
        # before placing the order (placing is idempotent; a failed attempt changes nothing).
        try:
            apply_result(result)
        except DomainError:
            log.exception("could not act on payment %s of an attempt", result.payment_id)
        return result
    if result is not None and not is_settled:
        try:
            give_back(result)
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


def _note_dispute(reference: str, dispute: GatewayDispute) -> None:
    """Note the dispute on the order the payment paid for (a payment for no order, such as a
    lost attempt's, has no history to note it in: logged for staff instead)."""
    try:
        orders.record_dispute(
            reference,
            dispute_id=dispute.dispute_id,
            amount=dispute.amount,
            reason=dispute.reason,
            respond_by=dispute.respond_by,
        )
    except OrderNotFound:
        log.warning("dispute %s: the payment of %s has no order", dispute.dispute_id, reference)
