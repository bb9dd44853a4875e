"""Paying a checkout, then placing its order: an order exists only once its payment did not fail.

``start_attempt`` (one transaction): the checkout row is locked and its one-time token
checked; the lines are priced again from the catalogue and must add up to the total the
customer reviewed; the address is checked; the cart's quantities are reserved again (a lapsed
hold is renewed if the stock is still there); a ``pending`` payment is recorded for the
checkout's attempt (``checkout:<id>:<n>``), to be captured at once or, when the shop captures
card payments at fulfilment and the gateway can, only authorised (captured at the order's
first shipment: ``orders.services.capture``); the ``payment_attempted`` event is recorded; the
token is consumed with a conditional UPDATE. No order and no order number yet, no stock sold:
a declined card leaves only a failed payment on the checkout, the stock still held for the
next try.

``place_attempt_order`` (joins the caller's transaction) runs once the gateway took the
money, holds it, is processing it, or waits for the customer's 3-D Secure, and at once for a
method paid later (bank transfer, cash on delivery): the cart is priced again and must still
cost what the payment is for; ``orders.place_order`` records the order; the reservation
becomes its sale; the payment is handed to the order (``payments.assign_payable``). Any error
rolls that back, and the caller gives the money back.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import update

from funnel.accounts import postal
from funnel.accounts.errors import AddressInvalid
from funnel.accounts.postal import PostalAddress
from funnel.analytics import services as analytics
from funnel.analytics.models import FunnelStage
from funnel.cart.queries import cart_contents
from funnel.checkout import queries
from funnel.checkout.attempts import attempt_reference, parse_attempt_reference
from funnel.checkout.errors import AttemptOver, StepMissing, SubmitTokenInvalid, TotalsChanged
from funnel.checkout.models import Checkout, CheckoutStatus
from funnel.checkout.services.common import checked_contents, reserve_cart, take_stock
from funnel.core.database import transaction
from funnel.extensions import db
from funnel.orders import services as orders
from funnel.orders.models import Order
from funnel.orders.services import OrderLineInput
from funnel.payments import queries as payment_queries
from funnel.payments import services as payments
from funnel.payments.gateways import get_gateway
from funnel.payments.models import Payment
from funnel.settings import queries as settings_queries

# The test gateway's 3-D Secure page (and a real gateway's) sends the customer back here, with
# the attempt's reference: the order may not exist yet when the payment is made.
RETURN_PATH = "/checkout/return/{reference}"


@dataclass(frozen=True)
class PaymentAttempt:
    """What a pay form started. ``payment_id``: the attempt's payment to send (None when
    there is nothing to send). ``is_duplicate``: this submission found its token used; then
    ``number`` is the order the first one placed, or ``payment_id`` the payment it started."""

    checkout_id: int
    payment_id: int | None
    is_duplicate: bool
    number: str | None = None


def payment_key(checkout: Checkout, attempt: int) -> str:
    """The gateway idempotency key of a checkout's attempt: one payment per attempt. A short
    digest of the checkout's secret token keeps keys unique across databases (a shop moved
    or started again must never meet its old keys at the gateway)."""
    salt = hashlib.sha256(checkout.token.encode()).hexdigest()[:12]
    return f"checkout:{checkout.id}:{salt}:attempt:{attempt}"


def current_attempt_payment(checkout: Checkout) -> Payment | None:
    """The live payment of the checkout's last attempt, while its order is not placed."""
    if checkout.payment_attempts < 1:
        return None
    return payment_queries.live_payment_for(
        attempt_reference(checkout.id, checkout.payment_attempts)
    )


def _shipping_address(checkout: Checkout) -> PostalAddress:
    """The address the checkout recorded, checked again: one recorded under older rules (a
    checkout open while the shop was upgraded) sends the customer back to the address step."""
    try:
        return postal.read(checkout, prefix="ship_")
    except AddressInvalid as error:
        raise StepMissing("address", "Please check your shipping address again.") from error


def _capture_method(gateway: str) -> str:
    """``manual`` (authorise now, capture at the first shipment) when the shop captures at
    fulfilment and the gateway can; ``automatic`` otherwise (bank transfer, cash, a gateway
    that cannot capture later). Raises GatewayNotEnabled."""
    can_wait = get_gateway(gateway).captures_later
    is_later = can_wait and settings_queries.current_settings().captures_at_fulfilment
    return "manual" if is_later else "automatic"


def _duplicate_or_refuse(checkout: Checkout) -> PaymentAttempt:
    if checkout.order_id is not None:
        order = db.session.get(Order, checkout.order_id)
        if order is not None:
            return PaymentAttempt(checkout.id, None, is_duplicate=True, number=order.number)
    payment = current_attempt_payment(checkout)
    if checkout.status == CheckoutStatus.OPEN and payment is not None:
        return PaymentAttempt(checkout.id, payment.id, is_duplicate=True)
    raise SubmitTokenInvalid()


def start_attempt(
    *,
    token: str | None,
    cart_id: int | None,
    submit_token: str,
    gateway: str,
    visitor_id: str | None = None,
) -> PaymentAttempt:
    """Record the checkout's next payment attempt, in one transaction (see the module).

    A second submission of the same form (the token already used), even at the same instant,
    starts nothing and returns what the first one started, with ``is_duplicate`` True.
    Raises GatewayNotEnabled, CheckoutNotFound, SubmitTokenInvalid (a stale form),
    StepMissing, CartEmpty, CartNeedsAttention, TotalsChanged (prices, cart or settings moved
    since the review), SoldOut, HoldLimitReached, and the payments' input errors.
    Side effects: a ``pending`` payment, the stock held again, the ``payment_attempted`` event.
    """
    capture_method = _capture_method(gateway)
    given_hash = queries.token_hash(submit_token or "")
    with transaction():
        checkout = queries.find_checkout(token, cart_id, lock=True)
        if checkout is None or checkout.status == CheckoutStatus.ABANDONED:
            raise SubmitTokenInvalid()
        stored = checkout.submit_token_hash
        if (
            checkout.status != CheckoutStatus.OPEN
            or stored is None
            or not hmac.compare_digest(given_hash, stored)
        ):
            return _duplicate_or_refuse(checkout)
        if checkout.email is None or checkout.reviewed_total_minor is None:
            raise StepMissing("review")
        unanswered = current_attempt_payment(checkout)
        if unanswered is not None and checkout.order_id is None:
            # The last attempt was sent and never answered: it is asked about, not paid twice.
            return PaymentAttempt(checkout.id, unanswered.id, is_duplicate=True)
        _shipping_address(checkout)
        contents = checked_contents(cart_contents(checkout.cart_id))
        totals = queries.checkout_quote(checkout, contents)
        if totals is None or totals.total.amount != checkout.reviewed_total_minor:
            raise TotalsChanged()
        reserve_cart(checkout, contents)
        attempt = checkout.payment_attempts + 1
        reference = attempt_reference(checkout.id, attempt)
        payment = payments.create_payment(
            payable_reference=reference,
            amount=totals.total,
            gateway=gateway,
            idempotency_key=payment_key(checkout, attempt),
            description=f"Checkout {checkout.id}",
            return_url=RETURN_PATH.format(reference=reference),
            capture_method=capture_method,
        )
        analytics.record_event(
            FunnelStage.PAYMENT_ATTEMPTED,
            visitor_id or checkout.visitor_id,
            user_id=checkout.user_id,
            order_reference=reference,
            dedupe_key=f"payment_attempted:{reference}",
        )
        consumed = db.session.execute(
            update(Checkout)
            .where(Checkout.id == checkout.id, Checkout.submit_token_hash == stored)
            .values(submit_token_hash=None, payment_attempts=attempt)
            .execution_options(synchronize_session=False)
        )
        if consumed.rowcount != 1:
            raise SubmitTokenInvalid()  # rolls the payment back: another request used the token
        return PaymentAttempt(checkout.id, payment.id, is_duplicate=False)


@dataclass(frozen=True)
class PlacedOrder:
    """The order of an attempt; ``is_new``: placed by this call (else found placed)."""

    number: str
    is_new: bool


def place_attempt_order(payment_id: int) -> PlacedOrder:
    """Place the order an attempt's payment pays for, and hand the payment to it (see the
    module). Joins the caller's transaction; idempotent: an attempt whose order is placed
    returns it, ``is_new`` False (the caller then settles it in a transaction of its own,
    which locks the order before the checkout, as every settlement does).

    Raises AttemptOver (the checkout moved on: completed, abandoned, or a newer attempt),
    TotalsChanged (the cart no longer costs what was paid), StepMissing, CartEmpty,
    CartNeedsAttention, SoldOut, HoldLimitReached, InvalidOrder.
    """
    with transaction():
        payment = payment_queries.get_payment(payment_id)
        parsed = parse_attempt_reference(payment.payable_reference)
        if parsed is None:
            return PlacedOrder(payment.payable_reference, is_new=False)  # placed already
        checkout_id, attempt = parsed
        checkout = queries.checkout_by_id(checkout_id, lock=True)
        payment = payment_queries.get_payment(payment_id)  # read again under the lock
        if parse_attempt_reference(payment.payable_reference) is None:
            return PlacedOrder(payment.payable_reference, is_new=False)
        if (
            checkout is None
            or checkout.status != CheckoutStatus.OPEN
            or checkout.order_id is not None
            or checkout.payment_attempts != attempt
            or checkout.email is None
        ):
            raise AttemptOver()
        contents = checked_contents(cart_contents(checkout.cart_id))
        totals = queries.checkout_quote(checkout, contents)
        if totals is None or totals.total != payment.amount:
            raise TotalsChanged()
        reserve_cart(checkout, contents)  # locks the variants first; a lapsed hold is renewed
        order = orders.place_order(
            email=checkout.email,
            user_id=checkout.user_id,
            lines=[
                OrderLineInput(
                    variant_id=line.variant_id,
                    sku=line.sku,
                    product_title=line.product_title,
                    variant_label=line.variant_label,
                    unit_price=line.unit_price,
                    quantity=line.quantity,
                )
                for line in contents.lines
            ],
            shipping_address=_shipping_address(checkout),
            shipping_method_code=totals.shipping_method.code,
            shipping_method_name=totals.shipping_method.name,
            shipping=totals.shipping,
            tax=totals.tax,
            tax_rate_basis_points=totals.tax_rate,
            payment_gateway=payment.gateway,
            visitor_id=checkout.visitor_id,
            expected_total=totals.total,
        )
        take_stock(checkout, contents, order.number)
        payments.assign_payable(payment.id, order.number)
        checkout.order_id = order.id
        return PlacedOrder(order.number, is_new=True)
