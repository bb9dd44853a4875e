"""Checkout reads: a browser's checkout, and its lines and totals computed on the server."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from funnel.cart.queries import CartContents, cart_contents
from funnel.checkout.models import Checkout
from funnel.checkout.pricing import (
    PricingPolicy,
    Quote,
    ShippingMethod,
    policy_from_shop_settings,
    quote,
)
from funnel.extensions import db
from funnel.orders.models import Order
from funnel.payments.errors import GatewayNotEnabled
from funnel.payments.gateways import BANK_TRANSFER, PaymentGateway, enabled_gateways
from funnel.settings.queries import current_settings

MAX_TOKEN_LENGTH = 64


def pricing_policy() -> PricingPolicy:
    """The shop's shipping methods and tax rates (from the settings, as staff saved them)."""
    return policy_from_shop_settings(current_settings())


def offered_gateways() -> list[PaymentGateway]:
    """The payment methods checkout offers, in the configured order: the enabled gateways,
    bank transfer only while the shop's bank account is configured (customers would have
    nowhere to send the money)."""
    is_bank_ready = current_settings().bank_account.is_configured
    return [
        gateway for gateway in enabled_gateways() if gateway.name != BANK_TRANSFER or is_bank_ready
    ]


def check_offered(gateway: str) -> None:
    """Raises GatewayNotEnabled (422) unless checkout offers ``gateway`` now."""
    if gateway not in {offered.name for offered in offered_gateways()}:
        raise GatewayNotEnabled(f"The payment method {gateway[:32]!r} is not available.")


def find_checkout(token: str | None, cart_id: int | None, *, lock: bool = False) -> Checkout | None:
    """The checkout with this token, if it belongs to ``cart_id`` (else None: not this
    browser's). ``lock`` reads it ``FOR UPDATE`` (inside a transaction)."""
    if not token or len(token) > MAX_TOKEN_LENGTH or cart_id is None:
        return None
    statement = select(Checkout).where(Checkout.token == token, Checkout.cart_id == cart_id)
    if lock:
        statement = statement.with_for_update()
    return db.session.scalar(statement.execution_options(populate_existing=True))


def order_of(checkout: Checkout) -> Order | None:
    """The order the checkout placed last (None before any)."""
    return db.session.get(Order, checkout.order_id) if checkout.order_id else None


def checkout_for_order(order_id: int, *, lock: bool = False) -> Checkout | None:
    statement = select(Checkout).where(Checkout.order_id == order_id)
    if lock:
        statement = statement.with_for_update()
    return db.session.scalar(statement.execution_options(populate_existing=True))


@dataclass(frozen=True)
class CheckoutSummary:
    """What the review and pay pages show: the cart's lines at catalogue prices and, once an
    address and a shipping method are chosen, the totals."""

    contents: CartContents
    quote: Quote | None


def checkout_quote(checkout: Checkout, contents: CartContents) -> Quote | None:
    """Totals for the checkout's cart, or None while its address or method is missing."""
    policy = pricing_policy()
    method = policy.method(checkout.shipping_method_code)
    if method is None or contents.subtotal is None or checkout.ship_country_code is None:
        return None
    # The lines the subtotal counts (a line in another currency is left out of it).
    units = [
        (line.unit_price, line.quantity)
        for line in contents.lines
        if line.unit_price.currency == contents.subtotal.currency
    ]
    return quote(policy, contents.subtotal, method, checkout.ship_country_code, units)


def checkout_summary(checkout: Checkout) -> CheckoutSummary:
    contents = cart_contents(checkout.cart_id)
    return CheckoutSummary(contents, checkout_quote(checkout, contents))


@dataclass(frozen=True)
class CheckoutOverview:
    """A checkout as the API returns it: its cart's lines at catalogue prices, the totals once
    an address and a shipping method are chosen, and the order under way, if any."""

    checkout: Checkout
    contents: CartContents
    quote: Quote | None
    shipping_method: ShippingMethod | None
    order_number: str | None
    is_ready_to_pay: bool  # reviewed, no order under way: it may be paid


def checkout_overview(checkout: Checkout) -> CheckoutOverview:
    summary = checkout_summary(checkout)
    order = order_of(checkout)
    return CheckoutOverview(
        checkout=checkout,
        contents=summary.contents,
        quote=summary.quote,
        shipping_method=pricing_policy().method(checkout.shipping_method_code),
        order_number=order.number if order is not None else None,
        is_ready_to_pay=submit_token(checkout) is not None,
    )


def submit_token(checkout: Checkout) -> str | None:
    """The pay form's one-time token, derived from the secret key and the checkout's current
    nonce (so showing the form writes nothing); None when no payment may be submitted now."""
    if checkout.submit_nonce is None or checkout.submit_token_hash is None:
        return None
    return derive_submit_token(checkout.token, checkout.submit_nonce)


def derive_submit_token(checkout_token: str, nonce: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = f"checkout-submit:{checkout_token}:{nonce}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
