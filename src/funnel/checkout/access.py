"""What the checkout's pages share: the browser's checkout, the redirects of a refused step,
the cart page for a refusal, and who may see an order's confirmation."""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.wrappers import Response

from funnel.accounts.countries import COUNTRIES
from funnel.cart.access import current_cart_id
from funnel.cart.views import render_cart
from funnel.checkout import queries
from funnel.checkout.errors import (
    CartEmpty,
    CartNeedsAttention,
    CheckoutNotFound,
    HoldLimitReached,
    SoldOut,
    StepMissing,
)
from funnel.checkout.models import Checkout, CheckoutStatus
from funnel.core.errors import DomainError
from funnel.orders.models import Order

ORDERS_KEY = "checkout_orders"
REMEMBERED_ORDERS = 10
SESSION_KEY = "checkout_token"
STEP_ENDPOINTS = {
    "contact": "checkout.contact",
    "address": "checkout.address",
    "shipping": "checkout.shipping",
    "review": "checkout.review",
    "complete": "checkout.pay",
}
CART_ERRORS = (CartEmpty, CartNeedsAttention, SoldOut, HoldLimitReached)


def signed_in_user_id() -> int | None:
    return int(current_user.id) if current_user.is_authenticated else None


def current_checkout() -> Checkout | None:
    """This browser's checkout (any status), if its cart is still the browser's cart."""
    return queries.find_checkout(session.get(SESSION_KEY), current_cart_id())


def open_checkout() -> Checkout:
    checkout = current_checkout()
    if checkout is None or checkout.status != CheckoutStatus.OPEN:
        raise CheckoutNotFound()
    return checkout


def step_redirect(error: DomainError) -> Response:
    """Where a refused step sends the customer: the step to do first, or the start."""
    if isinstance(error, StepMissing):
        if error.detail != error.title:
            flash(error.detail, "error")
        return redirect(url_for(STEP_ENDPOINTS.get(error.step, "checkout.contact")), 303)
    flash("Your checkout has ended. Please start again.", "error")
    return redirect(url_for("checkout.contact"), 303)


def cart_refusal(error: DomainError) -> ResponseReturnValue:
    """Back to the cart, with the reason (the sold-out lines named) and a 409."""
    return render_cart(status=error.status, error=error.detail)


def render_step(template: str, checkout: Checkout | None, status: int = 200, **context):
    summary = queries.checkout_summary(checkout) if checkout is not None else None
    page = render_template(
        f"checkout/{template}",
        checkout=checkout,
        summary=summary,
        countries=COUNTRIES,
        **context,
    )
    return page, status, {"Cache-Control": "no-store"}


def remember_order(number: str) -> None:
    """This browser placed the order: it may see its confirmation page."""
    numbers = [each for each in session.get(ORDERS_KEY, []) if each != number]
    session[ORDERS_KEY] = [*numbers, number][-REMEMBERED_ORDERS:]


def may_see(order: Order | None) -> bool:
    """The buyer only: the browser that placed it, or its signed-in owner."""
    if order is None:
        return False
    if order.number in session.get(ORDERS_KEY, []):
        return True
    return bool(current_user.is_authenticated and order.user_id == int(current_user.id))
