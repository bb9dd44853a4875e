"""Checkout for API clients (a headless storefront, a mobile app): two calls instead of pages.

``prepare_checkout`` runs the page steps in order (contact, address, shipping method, review)
and leaves a reviewed checkout holding the cart's stock; ``complete_checkout`` places the order
and pays, with the same one-time submit token as the pay form, so everything the pages
guarantee (one order per checkout, totals checked again, stock taken once, a declined card
cancels the order and reopens the checkout) holds for the API too.
"""

from __future__ import annotations

from dataclasses import dataclass

from funnel.accounts.postal import PostalAddress
from funnel.checkout import queries
from funnel.checkout.errors import (
    CheckoutInvalidInput,
    StepMissing,
    TotalsChanged,
)
from funnel.checkout.models import Checkout
from funnel.checkout.services.outcomes import (
    CheckoutOutcome,
    OutcomeKind,
    apply_result,
    pay,
    return_from_confirmation,
)
from funnel.checkout.services.placing import place_order
from funnel.checkout.services.steps import (
    confirm_review,
    set_address,
    set_shipping_method,
    start_checkout,
)
from funnel.core import clock
from funnel.core.money import Money
from funnel.extensions import db
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


_SETTLED = frozenset({OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.DELIVERED})


@dataclass(frozen=True)
class CardInput:
    number: str
    expiry: str
    cvc: str


def find_checkout(checkout_id: int) -> Checkout | None:
    """The checkout ``checkout_id`` as it is now (the caller checks who may see it)."""
    return db.session.get(Checkout, checkout_id, populate_existing=True)


def prepare_checkout(
    *,
    cart_id: int,
    email: str,
    user_id: int | None,
    address: PostalAddress,
    shipping_method: str,
    visitor_id: str | None = None,
    reservation_owner: str | None = None,
) -> Checkout:
    """Start (or go on with) the cart's checkout and take it to a reviewed state: the contact
    email, the address, the shipping method, then the review that fixes the total and holds
    the stock for ``RESERVATION_MINUTES``.

    The input is checked before anything is written. The cart's open checkout is taken up
    again (calling twice, even at the same instant, gives one checkout and does not hold the
    stock twice). ``visitor_id`` is the funnel's visitor (``checkout_started`` once per
    checkout; the order's later stages follow it).
    ``address`` comes from ``checked_address`` (its errors are the checkout's too).
    Raises CheckoutInvalidInput (field by field: email, shipping_method), CartEmpty,
    CartNeedsAttention, SoldOut, HoldLimitReached, OrderInProgress (the cart's order is being
    paid: a cart is paid for once).
    """
    if queries.pricing_policy().method(shipping_method) is None:
        message = "Choose one of the shipping methods."
        raise CheckoutInvalidInput(message, fields={"shipping_method": [message]})
    checkout = start_checkout(
        cart_id=cart_id,
        email=email,
        user_id=user_id,
        visitor_id=visitor_id,
        reservation_owner=reservation_owner,
    )
    set_address(checkout.token, cart_id, address)
    set_shipping_method(checkout.token, cart_id, shipping_method)
    return confirm_review(checkout.token, cart_id)


def _checked_card(gateway: str, card: CardInput | None) -> CardDetails | None:
    """The card a gateway needs, checked before any order is placed. Raises InvalidCard."""
    if not get_gateway(gateway).takes_card_details:
        return None
    given = card or CardInput("", "", "")
    check_card(given.number, given.expiry, given.cvc, clock.utcnow().date())
    return CardDetails(number=given.number, expiry=given.expiry, cvc=given.cvc)


def _outcome_of_placed(number: str) -> CheckoutOutcome:
    """What became of an order placed by an earlier call (the checkout's token was used)."""
    order = order_queries.get_order(number)
    kind = _KIND_OF_STATUS.get(order.status, OutcomeKind.PAID)
    if order.status == OrderStatus.PENDING_PAYMENT and order.payment_gateway == "manual":
        kind = OutcomeKind.AWAITING_TRANSFER
    return CheckoutOutcome(kind, number, "This checkout's order was already placed.")


def complete_checkout(
    checkout: Checkout,
    *,
    gateway: str,
    card: CardInput | None = None,
    expected_total: Money | None = None,
) -> CheckoutOutcome:
    """Place the reviewed checkout's order and submit its payment (see the module).

    ``expected_total`` is the total the client showed its customer: another total (prices or
    settings changed since the review) places nothing. A checkout whose order was placed
    already answers with that order's state, or, when that earlier call was interrupted before
    the gateway's answer was recorded, finishes its payment (see above). Call outside a
    transaction.
    Raises GatewayNotEnabled, InvalidCard, TotalsChanged, StepMissing, SubmitTokenInvalid,
    CartEmpty, CartNeedsAttention, SoldOut, GatewayUnavailable (call again: the same payment
    is resumed; the order is cancelled and the checkout reopened once the gateway is known
    to have taken nothing).
    """
    details = _checked_card(gateway, card)
    if (
        expected_total is not None
        and checkout.order_id is None
        and checkout.reviewed_total_minor is not None
        and (expected_total.amount, expected_total.currency)
        != (checkout.reviewed_total_minor, queries.pricing_policy().currency)
    ):
        raise TotalsChanged()
    placed = place_order(
        token=checkout.token,
        cart_id=checkout.cart_id,
        submit_token=queries.submit_token(checkout) or "",
        gateway=gateway,
        visitor_id=checkout.visitor_id,
    )
    if placed.is_duplicate or placed.payment_id is None:
        return _resume(placed.number, details)
    return pay(placed.payment_id, details)


def _resume(number: str, card: CardDetails | None) -> CheckoutOutcome:
    """An earlier call placed this order. While its payment is under way, go on with it: a
    payment with no gateway answer yet (that call was interrupted, or is still running) is
    sent again under the same gateway key, which first asks the gateway what became of it, so
    nothing is charged twice; an answered one is acted on as that call would have."""
    order = order_queries.get_order(number)
    payment = payment_queries.live_payment_for(number)
    if order.status != OrderStatus.PENDING_PAYMENT or payment is None:
        return _outcome_of_placed(number)
    if payment.status == PaymentStatus.PENDING and payment.gateway_payment_id is None:
        return pay(payment.id, card)
    return apply_result(payments.reconcile_payment(payment.id))


def confirm_payment(checkout: Checkout) -> CheckoutOutcome:
    """The customer finished the payment's next action (3-D Secure): ask the gateway and act
    on its answer, as the return page does. Raises StepMissing (no order under way),
    GatewayUnavailable."""
    order = queries.order_of(checkout)
    if order is not None and order.status in _SETTLED:
        return CheckoutOutcome(OutcomeKind.PAID, order.number, "The order is paid.")
    if order is None or order.status != OrderStatus.PENDING_PAYMENT:
        # Cancelled or refunded since: nothing is under way to confirm (asking the gateway
        # about a refunded payment would read as a failure to pay).
        raise StepMissing("complete", "This checkout has no order whose payment is under way.")
    return return_from_confirmation(order.number)
