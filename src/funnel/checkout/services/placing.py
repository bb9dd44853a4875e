"""Placing the order: one transaction for the stock, the order, its payment and the token.

Inside it, in this order: the checkout row is locked and its one-time token checked; the
lines are priced again from the catalogue and must add up to the total the customer
reviewed; the cart's quantities are reserved again (locking the variants' rows, in id order,
before anything refers to them; a reservation that lapsed is renewed if the stock is still
there); ``orders.place_order`` records the order; the reservation becomes the order's sale
(``inventory.commit_reservation``); ``payments.create_payment`` records the payment under a
key derived from the order; the ``payment_attempted`` event is recorded; the token is consumed
with a conditional UPDATE. Any error rolls all of it back: no order, no stock change, no
payment. The cart is emptied later, once the payment succeeded or is on its way
(``outcomes``), so that a declined card leaves it as it was.
"""

from __future__ import annotations

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
from funnel.checkout.errors import StepMissing, SubmitTokenInvalid, TotalsChanged
from funnel.checkout.models import Checkout, CheckoutStatus
from funnel.checkout.services.common import checked_contents, reserve_cart, take_stock
from funnel.core.database import transaction
from funnel.extensions import db
from funnel.orders import services as orders
from funnel.orders.models import Order
from funnel.orders.services import OrderLineInput
from funnel.payments import services as payments
from funnel.payments.gateways import get_gateway

# The test gateway's 3-D Secure page (and a real gateway's) sends the customer back here.
RETURN_PATH = "/checkout/return/{number}"


@dataclass(frozen=True)
class PlacedOrder:
    """The order a pay form made. ``is_duplicate``: this submission found its token used and
    points at the order the first one placed (``payment_id`` None: nothing to submit)."""

    number: str
    payment_id: int | None
    is_duplicate: bool


def payment_key(number: str, attempt: int = 1) -> str:
    """The idempotency key of an order's payment: one payment per order, so attempt 1."""
    return f"order:{number}:attempt:{attempt}"


def _shipping_address(checkout: Checkout) -> PostalAddress:
    """The address the checkout recorded, checked again: one recorded under older rules (a
    checkout open while the shop was upgraded) sends the customer back to the address step."""
    try:
        return postal.read(checkout, prefix="ship_")
    except AddressInvalid as error:
        raise StepMissing("address", "Please check your shipping address again.") from error


def _duplicate_or_refuse(checkout: Checkout) -> PlacedOrder:
    if checkout.order_id is not None:
        order = db.session.get(Order, checkout.order_id)
        if order is not None:
            return PlacedOrder(order.number, None, is_duplicate=True)
    raise SubmitTokenInvalid()


def place_order(
    *,
    token: str | None,
    cart_id: int | None,
    submit_token: str,
    gateway: str,
    visitor_id: str | None = None,
) -> PlacedOrder:
    """Place the checkout's order and record its payment, in one transaction (see the module).

    A second submission of the same form (the token already used), even at the same instant,
    places nothing and returns the first one's order with ``is_duplicate`` True.
    Raises GatewayNotEnabled, CheckoutNotFound, SubmitTokenInvalid (stale form, no order),
    StepMissing, CartEmpty, CartNeedsAttention, TotalsChanged (prices, cart or settings moved
    since the review), SoldOut, InvalidOrder, and the payments' input errors.
    Side effects: the order and its lines, ``sale`` stock movements, a ``pending`` payment,
    the ``payment_attempted`` funnel event; the checkout points at the order.
    """
    get_gateway(gateway)
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
        contents = checked_contents(cart_contents(checkout.cart_id))
        totals = queries.checkout_quote(checkout, contents)
        if totals is None or totals.total.amount != checkout.reviewed_total_minor:
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
            payment_gateway=gateway,
            visitor_id=visitor_id or checkout.visitor_id,
            expected_total=totals.total,
        )
        take_stock(checkout, contents, order.number)
        payment = payments.create_payment(
            payable_reference=order.number,
            amount=totals.total,
            gateway=gateway,
            idempotency_key=payment_key(order.number),
            description=f"Order {order.number}",
            return_url=RETURN_PATH.format(number=order.number),
        )
        analytics.record_event(
            FunnelStage.PAYMENT_ATTEMPTED,
            visitor_id or checkout.visitor_id,
            user_id=checkout.user_id,
            order_reference=order.number,
            dedupe_key=f"payment_attempted:{order.number}",
        )
        consumed = db.session.execute(
            update(Checkout)
            .where(Checkout.id == checkout.id, Checkout.submit_token_hash == stored)
            .values(
                submit_token_hash=None,
                order_id=order.id,
                payment_attempts=Checkout.payment_attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if consumed.rowcount != 1:
            raise SubmitTokenInvalid()  # rolls the order back: another request used the token
        return PlacedOrder(order.number, payment.id, is_duplicate=False)
