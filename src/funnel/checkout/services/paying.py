"""Paying: the one use case behind the pay form and ``POST /checkouts/{id}/complete``.

``submit_payment`` checks the card before anything is written, checks the total the customer
was shown, records the checkout's payment attempt (one transaction: ``placing``) and sends
its payment to the gateway (``outcomes.pay``), which places the order unless the payment
failed. A submission that finds its checkout's attempt already started (a double click, a
retried API call, a browser that went back and sent the form again) starts nothing: while
that payment is under way it goes on with it, so a payment that was never sent (the first
request died before the gateway heard) is sent now, and one whose answer was lost is asked
about; otherwise it answers with what became of the order. Both edges only map the outcome:
to a redirect, or to JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

from funnel.checkout import queries
from funnel.checkout.errors import TotalsChanged
from funnel.checkout.services.outcomes import (
    CheckoutOutcome,
    OutcomeKind,
    apply_result,
    awaiting_kind,
    pay,
)
from funnel.checkout.services.placing import start_attempt
from funnel.core import clock
from funnel.core.money import Money
from funnel.orders import queries as order_queries
from funnel.orders.models import OrderStatus
from funnel.payments import queries as payment_queries
from funnel.payments import services as payments
from funnel.payments.gateways import get_gateway
from funnel.payments.gateways.base import CardDetails
from funnel.payments.gateways.cards import check_card
from funnel.payments.models import PaymentStatus

# What an order's status says about a payment that was already submitted (a retried call).
_KIND_OF_STATUS = {
    OrderStatus.PENDING_PAYMENT: OutcomeKind.PROCESSING,
    OrderStatus.CANCELLED: OutcomeKind.FAILED,
}


@dataclass(frozen=True)
class CardInput:
    """A card as the customer typed it (not yet checked)."""

    number: str
    expiry: str
    cvc: str


def submit_payment(
    *,
    token: str | None,
    cart_id: int | None,
    gateway: str,
    submit_token: str | None,
    card: CardInput | None = None,
    expected_total: Money | None = None,
    visitor_id: str | None = None,
) -> CheckoutOutcome:
    """Place the reviewed checkout's order and pay it (see the module).

    The checkout is the one with ``token`` on ``cart_id``. ``submit_token`` is the pay form's
    one-time token; None stands for the checkout's current one, for a caller that already
    proved it may use the checkout (the API: the cart's credentials, and its
    ``Idempotency-Key`` against retries). ``expected_total`` is the total the client showed
    its customer: another total (prices or settings changed since the review) places
    nothing. ``visitor_id`` is the funnel's visitor (default: the checkout's). Call outside a
    transaction.
    Raises GatewayNotEnabled, InvalidCard (before anything is written, or from the gateway:
    then the attempt is cancelled and the checkout reopened), TotalsChanged, CheckoutNotFound,
    StepMissing, SubmitTokenInvalid, CartEmpty, CartNeedsAttention, SoldOut, HoldLimitReached,
    GatewayUnavailable (submit again: the same payment is resumed, asked about first).
    """
    details = _checked_card(gateway, card)
    checkout = queries.find_checkout(token, cart_id)
    if checkout is not None and submit_token is None:
        submit_token = queries.submit_token(checkout)
    if (
        checkout is not None
        and expected_total is not None
        and checkout.order_id is None
        and checkout.reviewed_total_minor is not None
        and (expected_total.amount, expected_total.currency)
        != (checkout.reviewed_total_minor, queries.pricing_policy().currency)
    ):
        raise TotalsChanged()
    attempt = start_attempt(
        token=token,
        cart_id=cart_id,
        submit_token=submit_token or "",
        gateway=gateway,
        visitor_id=visitor_id,
    )
    if attempt.number is not None:
        return _resume(attempt.number, details)
    assert attempt.payment_id is not None
    if attempt.is_duplicate:
        return _resume_attempt(attempt.payment_id, details)
    return pay(attempt.payment_id, details)


def _checked_card(gateway: str, card: CardInput | None) -> CardDetails | None:
    """The card a gateway needs, checked before any order is placed. Raises
    GatewayNotEnabled (also for a method checkout does not offer now), InvalidCard."""
    queries.check_offered(gateway)
    if not get_gateway(gateway).takes_card_details:
        return None
    given = card or CardInput("", "", "")
    check_card(given.number, given.expiry, given.cvc, clock.utcnow().date())
    return CardDetails(number=given.number, expiry=given.expiry, cvc=given.cvc)


def _resume(number: str, card: CardDetails | None) -> CheckoutOutcome:
    """An earlier submission placed this order. While its payment is under way, go on with
    it: a payment with no gateway answer yet (that submission was interrupted, or is still
    running) is sent again under the same gateway key, which first asks the gateway what
    became of it, so nothing is charged twice; an answered one is acted on as that
    submission would have."""
    order = order_queries.get_order(number)
    payment = payment_queries.live_payment_for(number)
    if order.status != OrderStatus.PENDING_PAYMENT or payment is None:
        return _outcome_of_placed(number)
    if payment.status == PaymentStatus.PENDING and payment.gateway_payment_id is None:
        return pay(payment.id, card)
    return apply_result(payments.reconcile_payment(payment.id))


def _resume_attempt(payment_id: int, card: CardDetails | None) -> CheckoutOutcome:
    """An earlier submission started this attempt and its order is not placed yet: a payment
    never sent is sent now; one sent is asked about (under the same gateway key: nothing is
    charged twice) and acted on."""
    payment = payment_queries.get_payment(payment_id)
    if payment.status == PaymentStatus.PENDING and payment.gateway_payment_id is None:
        return pay(payment.id, card)
    return apply_result(payments.reconcile_payment(payment.id))


def _outcome_of_placed(number: str) -> CheckoutOutcome:
    """What became of an order placed by an earlier submission (its payment is settled)."""
    order = order_queries.get_order(number)
    kind = _KIND_OF_STATUS.get(order.status, OutcomeKind.PAID)
    shipped_unpaid = order.status == OrderStatus.FULFILLED and order.is_awaiting_cash
    if order.status == OrderStatus.PENDING_PAYMENT or shipped_unpaid:
        kind = awaiting_kind(order.payment_gateway)
    return CheckoutOutcome(kind, number, "This checkout's order was already placed.")
