"""Checkout reads: a browser's checkout, and its lines and totals computed on the server."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from funnel.cart.queries import CartContents, cart_contents
from funnel.checkout.attempts import parse_attempt_reference
from funnel.checkout.models import Checkout, ReconciliationFinding
from funnel.checkout.pricing import (
    PricingPolicy,
    Quote,
    ShippingMethod,
    policy_from_shop_settings,
    quote,
)
from funnel.core.money import Money
from funnel.core.pagination import Page, paginate
from funnel.extensions import db
from funnel.orders.models import Order
from funnel.payments.errors import GatewayNotEnabled
from funnel.payments.gateways import BANK_TRANSFER, PaymentGateway, enabled_gateways, get_gateway
from funnel.payments.gateways.base import BrowserConfirmation
from funnel.payments.models import Payment, PaymentStatus
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


@dataclass(frozen=True)
class CardStep:
    """An order's payment awaiting the card in its gateway's own browser script."""

    amount: Money
    return_path: str
    confirmation: BrowserConfirmation


def card_step(order_number: str) -> CardStep | None:
    """What the card page of an order needs: its live payment awaiting the customer's card
    in the gateway's script (Stripe's Payment Element). None when there is none (paid,
    failed, or taken otherwise). Asks the gateway each time (its client secret is never
    stored). Raises GatewayNotEnabled, GatewayUnavailable."""
    payment = db.session.scalar(
        select(Payment).where(Payment.active_payable_reference == order_number)
    )
    if (
        payment is None
        or payment.status != PaymentStatus.REQUIRES_ACTION
        or payment.gateway_payment_id is None
        or payment.next_action_url
    ):
        return None
    gateway = get_gateway(payment.gateway)
    confirmation = gateway.browser_confirmation(payment.gateway_payment_id)
    if confirmation is None:
        return None
    return CardStep(payment.amount, payment.return_url, confirmation)


def find_checkout(token: str | None, cart_id: int | None, *, lock: bool = False) -> Checkout | None:
    """The checkout with this token, if it belongs to ``cart_id`` (else None: not this
    browser's). ``lock`` reads it ``FOR UPDATE`` (inside a transaction)."""
    if not token or len(token) > MAX_TOKEN_LENGTH or cart_id is None:
        return None
    statement = select(Checkout).where(Checkout.token == token, Checkout.cart_id == cart_id)
    if lock:
        statement = statement.with_for_update()
    return db.session.scalar(statement.execution_options(populate_existing=True))


def checkout_by_id(checkout_id: int, *, lock: bool = False) -> Checkout | None:
    """The checkout with this id (a payment attempt names it); ``lock``: ``FOR UPDATE``."""
    statement = select(Checkout).where(Checkout.id == checkout_id)
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


@dataclass(frozen=True)
class FailedPayment:
    """A payment that did not go through, as staff read it: who tried, how much, why.
    ``order_number`` only for one whose order was placed first (3-D Secure refused)."""

    public_id: str
    failed_at: datetime
    amount: Money
    gateway: str
    card: str
    reason: str
    email: str | None
    order_number: str | None


FAILED_PAYMENTS_PAGE_SIZE = 50


def failed_payments(page: int = 1, size: int = FAILED_PAYMENTS_PAGE_SIZE) -> Page[FailedPayment]:
    """The payments that failed, newest first (index ``payments (status, created_at)``), with
    the email of the checkout each was an attempt of."""
    wanted = Payment.status == PaymentStatus.FAILED
    total = db.session.scalar(select(func.count()).select_from(Payment).where(wanted)) or 0
    payments = db.session.scalars(
        select(Payment)
        .where(wanted)
        .order_by(Payment.created_at.desc(), Payment.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    checkout_ids = {_checkout_id_of(payment.payable_reference) for payment in payments} - {None}
    emails = dict(
        db.session.execute(
            select(Checkout.id, Checkout.email).where(Checkout.id.in_(checkout_ids))
        ).all()
    )
    order_emails = dict(
        db.session.execute(
            select(Order.number, Order.email).where(
                Order.number.in_({payment.payable_reference for payment in payments})
            )
        ).all()
    )
    items = [
        FailedPayment(
            public_id=payment.public_id,
            failed_at=payment.updated_at,
            amount=payment.amount,
            gateway=payment.gateway,
            card=f"{payment.card_brand or 'card'} ending {payment.card_last4}"
            if payment.card_last4
            else "",
            reason=payment.failure_message or "The payment did not go through.",
            email=emails.get(_checkout_id_of(payment.payable_reference) or 0)
            or order_emails.get(payment.payable_reference),
            order_number=payment.payable_reference
            if payment.payable_reference in order_emails
            else None,
        )
        for payment in payments
    ]
    return Page(items=items, number=page, size=size, total=total)


def _checkout_id_of(reference: str) -> int | None:
    parsed = parse_attempt_reference(reference)
    return parsed[0] if parsed else None


FINDINGS_PAGE_SIZE = 50


@dataclass(frozen=True)
class FindingRow:
    """A reconciliation finding for the staff list; ``order_number`` when its reference is
    one of our orders (the list links to it)."""

    finding: ReconciliationFinding
    order_number: str | None


def reconciliation_findings(page: int = 1, size: int = FINDINGS_PAGE_SIZE) -> Page[FindingRow]:
    """The findings, open ones first, each part newest first (ties by id, newest first)."""
    statement = select(ReconciliationFinding).order_by(
        ReconciliationFinding.resolved_at.is_not(None),
        ReconciliationFinding.found_at.desc(),
        ReconciliationFinding.id.desc(),
    )
    found = paginate(db.session, statement, page, size)
    references = {row.reference for row in found.items if row.reference is not None}
    orders = set(
        db.session.scalars(select(Order.number).where(Order.number.in_(references))).all()
        if references
        else ()
    )
    items = [
        FindingRow(row, row.reference if row.reference in orders else None) for row in found.items
    ]
    return Page(items=items, number=found.number, size=found.size, total=found.total)


def count_open_findings() -> int:
    """How many findings wait for staff (the ``funnel_unreconciled_charges`` gauge)."""
    open_findings = ReconciliationFinding.resolved_at.is_(None)
    return int(
        db.session.scalar(select(func.count(ReconciliationFinding.id)).where(open_findings)) or 0
    )


def customer_email_for(reference: str | None) -> str | None:
    """The email of the customer behind a payable: the order's, or the checkout's for an
    attempt whose order was never placed; None when neither is ours or none was given."""
    if reference is None:
        return None
    attempt = parse_attempt_reference(reference)
    if attempt is not None:
        return db.session.scalar(select(Checkout.email).where(Checkout.id == attempt[0]))
    return db.session.scalar(select(Order.email).where(Order.number == reference))


def is_order_number(reference: str | None) -> bool:
    """Whether ``reference`` names one of our orders."""
    if reference is None:
        return False
    return db.session.scalar(select(Order.id).where(Order.number == reference)) is not None
