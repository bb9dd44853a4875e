"""Checkout API input and output: what a headless storefront sends to check out and pay.

The representations serialise what the edge read (``checkout.queries.checkout_overview``,
``orders.queries.order_details``) and the outcome a service returned; they read nothing.
"""

from __future__ import annotations

import enum
from typing import Any, Protocol

import marshmallow as ma
from marshmallow import validate

from funnel.accounts.postal import FIELDS as POSTAL_FIELDS
from funnel.accounts.schemas import AddressInputSchema
from funnel.cart.schemas import CartLineSchema, CartRead, cart_representation
from funnel.checkout.models import Checkout
from funnel.checkout.pricing import Quote, ShippingMethod
from funnel.core.api import MoneyField, MoneyInputSchema, WholeNumber
from funnel.orders.schemas import (
    OrderRead,
    OrderSchema,
    OrderShippingAddressSchema,
    order_representation,
)

MAX_CODE_LENGTH = 32


class ShippingAddressInputSchema(AddressInputSchema):
    """Where the order goes: an address as the address book takes it. Length limits bound the
    input; the checkout's rules (required fields, country code) answer 422 per field."""

    class Meta:
        exclude = ("is_default_shipping",)


class CheckoutInputSchema(ma.Schema):
    cart_id = WholeNumber(
        required=True,
        validate=validate.Range(min=1, max=2147483647),
        metadata={"description": "The cart to check out (reached as for GET /carts/{cart_id})"},
    )
    email = ma.fields.String(
        validate=validate.Length(max=254),
        metadata={"description": "Where the confirmation goes; default: the account's email"},
    )
    shipping_address = ma.fields.Nested(ShippingAddressInputSchema, required=True)
    save_to_address_book = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "Keep the shipping address in the caller's address book too (a "
            "bearer token's account; not twice; ignored for a guest)"
        },
    )
    shipping_method = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_CODE_LENGTH),
        metadata={"description": "A code from GET /shipping-methods", "example": "standard"},
    )


class CardInputSchema(ma.Schema):
    """Card details for a gateway that takes them. Sent to the gateway, never stored."""

    number = ma.fields.String(
        required=True, validate=validate.Length(max=40), metadata={"example": "4242424242424242"}
    )
    expiry = ma.fields.String(
        required=True, validate=validate.Length(max=10), metadata={"example": "12/30"}
    )
    cvc = ma.fields.String(
        required=True, validate=validate.Length(max=8), metadata={"example": "123"}
    )


class CompletionInputSchema(ma.Schema):
    payment_method = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_CODE_LENGTH),
        metadata={"description": "A code from GET /payment-methods", "example": "test"},
    )
    card = ma.fields.Nested(CardInputSchema, metadata={"description": "For card gateways"})
    expected_total = ma.fields.Nested(
        MoneyInputSchema,
        metadata={
            "description": "The total shown to the customer: if the checkout's total is "
            "another (prices changed), nothing is placed and the answer is 409"
        },
    )


class ShippingChoiceSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    min_delivery_days = ma.fields.Integer(required=True, allow_none=True)
    max_delivery_days = ma.fields.Integer(required=True, allow_none=True)


class CheckoutSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    cart_id = ma.fields.Integer(required=True)
    status = ma.fields.String(
        required=True,
        validate=validate.OneOf(["open", "completed", "abandoned"]),
        metadata={"description": "open until the order is paid or its payment is under way"},
    )
    email = ma.fields.String(required=True, allow_none=True)
    shipping_address = ma.fields.Nested(OrderShippingAddressSchema, required=True, allow_none=True)
    shipping_method = ma.fields.Nested(ShippingChoiceSchema, required=True, allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(CartLineSchema), required=True)
    subtotal = MoneyField(required=True)
    shipping = MoneyField(required=True, allow_none=True)
    tax = MoneyField(required=True, allow_none=True)
    total = MoneyField(required=True, allow_none=True)
    is_ready_to_pay = ma.fields.Boolean(
        required=True,
        metadata={"description": "Reviewed, no order under way: POST .../complete may pay"},
    )
    expires_at = ma.fields.DateTime(
        required=True, metadata={"description": "The stock is held until then"}
    )
    order_number = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "The order under way, if any"}
    )


class CompletionSchema(ma.Schema):
    outcome = ma.fields.String(
        required=True,
        validate=validate.OneOf(
            [
                "paid",
                "processing",
                "awaiting_transfer",
                "pay_on_delivery",
                "requires_action",
                "failed",
            ]
        ),
        metadata={
            "description": "paid; processing (the gateway decides later); awaiting_transfer "
            "(bank transfer); pay_on_delivery (cash on delivery: the order ships, the customer "
            "pays the carrier); requires_action (send the customer to next_action_url, or, "
            "when it is null, take the card with GET .../card-confirmation's Stripe.js "
            "details; then POST .../payment-confirmation); failed (nothing charged; pay again)"
        },
    )
    message = ma.fields.String(required=True)
    next_action_url = ma.fields.String(required=True, allow_none=True)
    checkout_id = ma.fields.Integer(required=True)
    order = ma.fields.Nested(OrderSchema, required=True)


class CardConfirmationSchema(ma.Schema):
    publishable_key = ma.fields.String(
        required=True, metadata={"description": "The gateway's publishable key (Stripe.js)"}
    )
    client_secret = ma.fields.String(
        required=True,
        metadata={
            "description": "Confirms this one payment with Stripe.js "
            "(stripe.confirmPayment); keep it from logs and other customers"
        },
    )
    script_url = ma.fields.String(required=True, metadata={"description": "Stripe.js's address"})
    amount = MoneyField(required=True)


class CardStepRead(Protocol):
    """What ``card_confirmation_representation`` serialises (``checkout.queries.CardStep``)."""

    @property
    def amount(self) -> Any: ...

    @property
    def confirmation(self) -> Any: ...


def card_confirmation_representation(step: CardStepRead) -> dict[str, Any]:
    """A ``CardConfirmationSchema`` dict."""
    confirmation = step.confirmation
    return {
        "publishable_key": confirmation.publishable_key,
        "client_secret": confirmation.client_secret,
        "script_url": confirmation.script_url,
        "amount": step.amount,
    }


class CheckoutRead(Protocol):
    """What ``checkout_representation`` serialises: a checkout as the checkout's queries read
    it (``checkout.queries.CheckoutOverview``)."""

    @property
    def checkout(self) -> Checkout: ...

    @property
    def contents(self) -> CartRead: ...

    @property
    def quote(self) -> Quote | None: ...

    @property
    def shipping_method(self) -> ShippingMethod | None: ...

    @property
    def order_number(self) -> str | None: ...

    @property
    def is_ready_to_pay(self) -> bool: ...


class PaymentOutcome(Protocol):
    """What a payment came to, as the checkout's services answer it
    (``checkout.services.CheckoutOutcome``): its kind, in words, and where the customer goes
    next when the gateway asks for an action."""

    @property
    def kind(self) -> enum.Enum: ...

    @property
    def message(self) -> str: ...

    @property
    def next_action_url(self) -> str | None: ...


def checkout_representation(overview: CheckoutRead) -> dict[str, Any]:
    """A ``CheckoutSchema`` dict: the checkout with its cart's lines and today's totals."""
    checkout = overview.checkout
    quote = overview.quote
    method = overview.shipping_method
    cart = cart_representation(overview.contents)
    return {
        "id": checkout.id,
        "cart_id": checkout.cart_id,
        "status": checkout.status.value,
        "email": checkout.email,
        "shipping_address": _address(checkout) if checkout.has_address else None,
        "shipping_method": (
            {
                "code": method.code,
                "name": method.name,
                "min_delivery_days": method.min_days,
                "max_delivery_days": method.max_days,
            }
            if method
            else None
        ),
        "lines": cart["lines"],
        "subtotal": cart["subtotal"] if quote is None else quote.subtotal,
        "shipping": quote.shipping if quote else None,
        "tax": quote.tax if quote else None,
        "total": quote.total if quote else None,
        "is_ready_to_pay": overview.is_ready_to_pay,
        "expires_at": checkout.expires_at,
        "order_number": overview.order_number,
    }


def completion_representation(
    outcome: PaymentOutcome, checkout_id: int, order: OrderRead
) -> dict[str, Any]:
    """A ``CompletionSchema`` dict: the payment's outcome and the order as it stands now."""
    return {
        "outcome": outcome.kind.value,
        "message": outcome.message,
        "next_action_url": outcome.next_action_url,
        "checkout_id": checkout_id,
        "order": order_representation(order),
    }


def _address(checkout: Checkout) -> dict[str, Any]:
    return {name: getattr(checkout, f"ship_{name}") for name in POSTAL_FIELDS}
