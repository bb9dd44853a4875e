"""Checkout over the JSON API: what it offers (shipping and payment methods), and checking
out a cart in two calls (``POST /checkouts``, then ``POST /checkouts/{id}/complete``).

The same services as the checkout pages (``checkout.services.headless`` runs their steps, and
``submit_payment`` is the pay form's own use case), so
the rules are the pages' rules: the stock is held from the first call, the total is checked
again when paying, one order per checkout, and a declined card cancels the order and leaves
the checkout open to pay again. A checkout is reached like its cart: the cart's secret or its
account's bearer token.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint

from funnel.accounts.access import authenticate, bearer_secret
from funnel.accounts.models import User
from funnel.analytics.tracking import current_visitor_id
from funnel.cart.access import accessible_cart_id, require_credentials
from funnel.cart.errors import CartNotFound
from funnel.checkout.errors import CheckoutNotFound, CheckoutPaymentFailed
from funnel.checkout.limits import api_reservation_limit, checkout_limits, reservation_owner
from funnel.checkout.models import Checkout
from funnel.checkout.queries import checkout_overview, offered_gateways, pricing_policy
from funnel.checkout.schemas import (
    CardConfirmationSchema,
    CheckoutInputSchema,
    CheckoutSchema,
    CompletionInputSchema,
    CompletionSchema,
    card_confirmation_representation,
    checkout_representation,
    completion_representation,
)
from funnel.checkout.services import (
    CardInput,
    CheckoutOutcome,
    OutcomeKind,
    checked_address,
    headless,
    submit_payment,
)
from funnel.core.api import API_PREFIX, CART_SECURITY, MoneyField, errors, links
from funnel.core.idempotency import idempotent
from funnel.core.money import Money
from funnel.orders import queries as order_queries

bp = Blueprint(
    "checkout_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Checking out a cart: shipping and payment methods, checkouts, payment",
)

CHECKOUT_ID = "<id:checkout_id>"
CHECKOUT_OF_BODY = {"checkout_id": "$response.body#/id"}


class ShippingMethodSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    price = MoneyField(required=True)
    is_free_above_threshold = ma.fields.Boolean(
        required=True, metadata={"description": "Free when the subtotal reaches the threshold"}
    )
    min_delivery_days = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "Fewest working days to delivery (null: not given)"},
    )
    max_delivery_days = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "Most working days to delivery (null: not given)"},
    )


class ShippingMethodListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ShippingMethodSchema), required=True)
    free_shipping_threshold = MoneyField(required=True, allow_none=True)


class PaymentMethodSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "manual"})
    label = ma.fields.String(required=True)


class PaymentMethodListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PaymentMethodSchema), required=True)


@bp.route("/shipping-methods", methods=["GET"])
@bp.response(200, ShippingMethodListSchema)
def list_shipping_methods() -> dict[str, Any]:
    """The shipping methods checkout offers, with their prices"""
    policy = pricing_policy()
    return {
        "items": [
            {
                "code": method.code,
                "name": method.name,
                "price": method.price,
                "is_free_above_threshold": method.is_free_above_threshold,
                "min_delivery_days": method.min_days,
                "max_delivery_days": method.max_days,
            }
            for method in policy.methods
        ],
        "free_shipping_threshold": policy.free_shipping_threshold,
    }


@bp.route("/payment-methods", methods=["GET"])
@bp.response(200, PaymentMethodListSchema)
def list_payment_methods() -> dict[str, Any]:
    """The payment methods checkout offers, in the order it offers them"""
    return {
        "items": [{"code": gateway.name, "label": gateway.label} for gateway in offered_gateways()]
    }


# --- checkouts ------------------------------------------------------------------------------


@bp.route("/checkouts", methods=["POST"])
@checkout_limits
@api_reservation_limit
@bp.doc(security=CART_SECURITY)
@bp.response(201, CheckoutSchema)
@links(
    bp,
    201,
    get_checkout=CHECKOUT_OF_BODY,
    complete_checkout=CHECKOUT_OF_BODY,
    confirm_checkout_payment=CHECKOUT_OF_BODY,
)
@errors(bp, 400, 401, 404, 409, 413, 422, 429)
@bp.arguments(CheckoutInputSchema)
def create_checkout(data: dict[str, Any]) -> dict[str, Any]:
    """Check out a cart: contact email, shipping address and method; the totals

    Holds the cart's stock for a while (`expires_at`) and fixes the total to pay. Calling
    again for the same cart (another address or method) goes on with its open checkout. The
    email defaults to the account's for a bearer token; a guest must give one. 409 when the
    cart is empty, a line needs attention, the stock is gone (`sold_out`, naming the lines),
    or the cart asks for more than one customer may hold at a time
    (`reservation_limit_reached`: a share of the stock, counted per client address).
    """
    cart_id = accessible_cart_id(data["cart_id"])
    caller = _caller()
    checkout = headless.prepare_checkout(
        cart_id=cart_id,
        email=data.get("email") or (caller.email if caller else ""),
        user_id=caller.id if caller else None,
        address=checked_address(data["shipping_address"]),
        shipping_method=data["shipping_method"],
        visitor_id=current_visitor_id(),
        reservation_owner=reservation_owner(),
        save_to_address_book=data.get("save_to_address_book", False),
    )
    return checkout_representation(checkout_overview(checkout))


@bp.route(f"/checkouts/{CHECKOUT_ID}", methods=["GET"])
@bp.doc(security=CART_SECURITY)
@bp.response(200, CheckoutSchema)
@errors(bp, 401, 404)
def get_checkout(checkout_id: int) -> dict[str, Any]:
    """A checkout: its lines, today's totals, and the order under way, if any"""
    return checkout_representation(checkout_overview(_reachable_checkout(checkout_id)))


@bp.route(f"/checkouts/{CHECKOUT_ID}/complete", methods=["POST"])
@checkout_limits
@idempotent(bp, authorize=lambda checkout_id: _reachable_checkout(checkout_id))
@bp.doc(security=CART_SECURITY)
@bp.response(200, CompletionSchema)
@errors(bp, 400, 401, 402, 404, 409, 413, 422, 429, 503)
@bp.arguments(CompletionInputSchema)
def complete_checkout(data: dict[str, Any], checkout_id: int) -> dict[str, Any]:
    """Place the order and pay

    `outcome` says what happened: `paid`, `processing` (the gateway decides later),
    `awaiting_transfer` (bank transfer: the order's payment details are emailed),
    `pay_on_delivery` (cash on delivery: the order ships and the customer pays the carrier),
    `requires_action` (send the customer to `next_action_url`, then call
    `POST /checkouts/{checkout_id}/payment-confirmation`). A declined card is a 402 problem
    (`payment_failed`): no order is placed, nothing is charged, and the checkout can be paid
    again (its stock stays held). Send an `Idempotency-Key`: a retry then never places a
    second order.
    """
    checkout = _reachable_checkout(checkout_id)
    card = data.get("card")
    expected = data.get("expected_total")
    outcome = submit_payment(
        token=checkout.token,
        cart_id=checkout.cart_id,
        gateway=data["payment_method"],
        submit_token=None,  # the cart's credentials were checked; the Idempotency-Key guards
        card=CardInput(**card) if card else None,
        expected_total=Money(expected["amount"], expected["currency"].upper())
        if expected
        else None,
    )
    return _answer(outcome, checkout.id)


@bp.route(f"/checkouts/{CHECKOUT_ID}/payment-confirmation", methods=["POST"])
@checkout_limits
@bp.doc(security=CART_SECURITY)
@bp.response(200, CompletionSchema)
@errors(bp, 401, 402, 404, 409, 429, 503)
def confirm_checkout_payment(checkout_id: int) -> dict[str, Any]:
    """After the payment's next action (3-D Secure): ask the gateway for the outcome

    Asking twice changes nothing. 409 when the checkout has no order whose payment is under
    way.
    """
    checkout = _reachable_checkout(checkout_id)
    return _answer(headless.confirm_payment(checkout), checkout.id)


@bp.route(f"/checkouts/{CHECKOUT_ID}/card-confirmation", methods=["GET"])
@checkout_limits
@bp.doc(security=CART_SECURITY)
@bp.response(200, CardConfirmationSchema)
@errors(bp, 401, 404, 409, 429, 503)
def get_card_confirmation(checkout_id: int) -> Any:
    """What Stripe.js needs to take the card of the order's payment

    After `complete` answered `requires_action` with no `next_action_url` (the `stripe`
    payment method): mount Stripe's Payment Element with `publishable_key` and
    `client_secret`, confirm with `stripe.confirmPayment`, then call
    `POST /checkouts/{checkout_id}/payment-confirmation`. 409 when no payment awaits a card.
    The answer is never cached.
    """
    checkout = _reachable_checkout(checkout_id)
    body = card_confirmation_representation(headless.card_confirmation(checkout))
    return body, 200, {"Cache-Control": "no-store"}


def _caller() -> User | None:
    """The bearer token's account, or None for a guest (the cart's secret)."""
    return authenticate() if bearer_secret() is not None else None


def _reachable_checkout(checkout_id: int) -> Checkout:
    """The checkout, if the caller may reach its cart; else the same 404 as a missing one."""
    require_credentials()
    checkout = headless.find_checkout(checkout_id)
    try:
        # An unknown checkout is answered as one whose cart the caller may not use (a cart
        # secret alone: 401; a bearer token: 404), so that ids cannot be probed.
        accessible_cart_id(checkout.cart_id if checkout else 0)
    except CartNotFound as error:
        raise CheckoutNotFound() from error
    if checkout is None:
        raise CheckoutNotFound()
    return checkout


def _answer(outcome: CheckoutOutcome, checkout_id: int) -> dict[str, Any]:
    """The ``CompletionSchema`` body, with the order as it stands now; a failed payment is the
    402 problem instead (with the order's number only when an order was placed: a 3-D Secure
    refused after it began)."""
    if outcome.kind == OutcomeKind.FAILED or outcome.number is None:
        note = "" if outcome.is_given_back else " Nothing was charged: pay again."
        extra: dict[str, Any] = {"checkout_id": checkout_id}
        if outcome.number is not None:
            extra["order_number"] = outcome.number
        raise CheckoutPaymentFailed(f"{outcome.message}{note}", **extra)
    order = order_queries.order_details(order_queries.get_order(outcome.number))
    return completion_representation(outcome, checkout_id, order)
