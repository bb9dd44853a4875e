"""Checkout for API clients (a headless storefront, a mobile app): two calls instead of pages.

``prepare_checkout`` runs the page steps in order (contact, address, shipping method, review)
and leaves a reviewed checkout holding the cart's stock; paying it is the pay form's own use
case (``paying.submit_payment``), so everything the pages guarantee (one order per checkout,
totals checked again, stock taken once, a declined card cancels the order and reopens the
checkout) holds for the API too.
"""

from __future__ import annotations

from typing import Any

from funnel.accounts.postal import PostalAddress
from funnel.checkout import queries
from funnel.checkout.errors import CheckoutInvalidInput, OrderInProgress, StepMissing
from funnel.checkout.models import Checkout
from funnel.checkout.services.outcomes import (
    CheckoutOutcome,
    OutcomeKind,
    abandon_awaiting_action,
    return_from_confirmation,
)
from funnel.checkout.services.steps import (
    confirm_review,
    set_address,
    set_shipping_method,
    start_checkout_once,
)
from funnel.core.database import transaction
from funnel.extensions import db
from funnel.orders.models import OrderStatus
from funnel.payments.errors import GatewayNotEnabled

_SETTLED = frozenset({OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.DELIVERED})


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
    save_to_address_book: bool = False,
) -> Checkout:
    """Start (or go on with) the cart's checkout and take it to a reviewed state: the contact
    email, the address, the shipping method, then the review that fixes the total and holds
    the stock for ``RESERVATION_MINUTES``.

    The input is checked before anything is written. The cart's open checkout is taken up
    again (calling twice, even at the same instant, gives one checkout and does not hold the
    stock twice). ``visitor_id`` is the funnel's visitor (``checkout_started`` once per
    checkout; the order's later stages follow it).
    The whole preparation is one transaction, and the stock is reserved once (by the review):
    a step refused (the stock went meanwhile) leaves the checkout as it was.
    ``address`` comes from ``checked_address`` (its errors are the checkout's too); with
    ``save_to_address_book`` a customer's address book keeps it (see ``set_address``).
    Raises CheckoutInvalidInput (field by field: email, shipping_method), CartEmpty,
    CartNeedsAttention, SoldOut, HoldLimitReached, OrderInProgress (the cart's order is being
    paid: a cart is paid for once).
    """
    if queries.pricing_policy().method(shipping_method) is None:
        message = "Choose one of the shipping methods."
        raise CheckoutInvalidInput(message, fields={"shipping_method": [message]})
    arguments = {
        "cart_id": cart_id,
        "email": email,
        "user_id": user_id,
        "visitor_id": visitor_id,
        "reservation_owner": reservation_owner,
    }
    steps = {
        "address": address,
        "shipping_method": shipping_method,
        "save_to_address_book": save_to_address_book,
    }
    try:
        return _prepare_once(arguments, **steps)
    except OrderInProgress as in_progress:
        # Given up outside any transaction (it may ask the gateway), then tried once more.
        if not abandon_awaiting_action(in_progress.number):
            raise
    return _prepare_once(arguments, **steps)


def _prepare_once(
    arguments: dict[str, Any],
    *,
    address: PostalAddress,
    shipping_method: str,
    save_to_address_book: bool,
) -> Checkout:
    """Every step in one transaction (each joins it): one commit, and the stock reserved once,
    by the review. A step refused leaves the checkout as it was before the call."""
    with transaction():
        checkout = start_checkout_once(**arguments, holds_stock=False)
        token, cart_id = checkout.token, arguments["cart_id"]
        set_address(token, cart_id, address, save_to_address_book=save_to_address_book)
        set_shipping_method(token, cart_id, shipping_method)
        return confirm_review(token, cart_id)


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


def card_confirmation(checkout: Checkout) -> queries.CardStep:
    """What the client's copy of the gateway's script (Stripe's Payment Element) needs to take
    the card of the checkout's order. Raises StepMissing (no payment awaits a card: paid,
    failed, or a gateway that takes the card otherwise), GatewayUnavailable."""
    order = queries.order_of(checkout)
    try:
        step = queries.card_step(order.number) if order is not None else None
    except GatewayNotEnabled:
        step = None
    if step is None:
        raise StepMissing("complete", "This checkout has no payment awaiting a card.")
    return step
