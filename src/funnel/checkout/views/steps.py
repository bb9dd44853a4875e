"""The checkout's first steps: contact, address, shipping; and how every step page is rendered
and where a refused step sends the customer (the payment pages share these).

Each handler reads the form, calls one service and redirects (303) to the next step; a refusal
re-renders the step with the reason beside the field and a 4xx status. GET pages only read.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.wrappers import Response

from funnel.accounts import queries as account_queries
from funnel.accounts.countries import COUNTRIES
from funnel.accounts.postal import FIELDS as POSTAL_FIELDS
from funnel.analytics.tracking import current_visitor_id
from funnel.cart.access import current_cart_id
from funnel.cart.queries import cart_contents
from funnel.cart.views import render_cart
from funnel.checkout import queries, services
from funnel.checkout.access import SESSION_KEY, current_checkout, open_checkout, signed_in_user_id
from funnel.checkout.errors import (
    CartEmpty,
    CartNeedsAttention,
    CheckoutInvalidInput,
    CheckoutNotFound,
    HoldLimitReached,
    OrderInProgress,
    SoldOut,
    StepMissing,
)
from funnel.checkout.forms import NEW_ADDRESS, CheckoutAddressForm, ContactForm, ShippingForm
from funnel.checkout.limits import reservation_limit, reservation_owner
from funnel.checkout.models import Checkout, CheckoutStatus
from funnel.checkout.pricing import gross_of
from funnel.core.errors import DomainError

STEP_ENDPOINTS = {
    "contact": "checkout.contact",
    "address": "checkout.address",
    "shipping": "checkout.shipping",
    "review": "checkout.review",
    "complete": "checkout.pay",
}
CART_ERRORS = (CartEmpty, CartNeedsAttention, SoldOut, HoldLimitReached)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("", "contact", contact, methods=["GET"])
    bp.add_url_rule("", "start", start, methods=["POST"])
    bp.add_url_rule("/address", "address", address, methods=["GET"])
    bp.add_url_rule("/address", "save_address", save_address, methods=["POST"])
    bp.add_url_rule("/shipping", "shipping", shipping, methods=["GET"])
    bp.add_url_rule("/shipping", "save_shipping", save_shipping, methods=["POST"])


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


# -- contact ----------------------------------------------------------------------------------


def contact() -> ResponseReturnValue:
    cart_id = current_cart_id()
    contents = cart_contents(cart_id) if cart_id is not None else None
    if contents is None or contents.is_empty:
        flash("Your cart is empty.", "error")
        return redirect(url_for("cart.show"), 303)
    checkout = current_checkout()
    if checkout is not None and checkout.status != CheckoutStatus.OPEN:
        checkout = None
    form = ContactForm(email=checkout.email if checkout else None)
    return (
        render_template("checkout/contact.html", form=form, contents=contents, checkout=checkout),
        200,
        {"Cache-Control": "no-store"},
    )


@reservation_limit
def start() -> ResponseReturnValue:
    form = ContactForm()
    user_id = signed_in_user_id()
    email = current_user.email if user_id is not None else (form.email.data or "")
    cart_id = current_cart_id()
    try:
        if cart_id is None:
            raise CartEmpty()
        checkout = services.start_checkout(
            cart_id=cart_id,
            email=email,
            user_id=user_id,
            visitor_id=current_visitor_id(),
            token=session.get(SESSION_KEY),
            reservation_owner=reservation_owner(),
        )
    except (*CART_ERRORS, OrderInProgress) as error:
        return cart_refusal(error)
    except CheckoutInvalidInput as error:
        form.email.errors = error.fields.get("email", [error.detail])
        page = render_template(
            "checkout/contact.html", form=form, contents=cart_contents(cart_id), checkout=None
        )
        return page, error.status
    session[SESSION_KEY] = checkout.token
    return redirect(url_for("checkout.address"), 303)


# -- address ----------------------------------------------------------------------------------


def _address_form(checkout: Checkout, formdata: object = None) -> CheckoutAddressForm:
    user_id = signed_in_user_id()
    saved = account_queries.list_addresses(user_id) if user_id is not None else []
    if formdata is None and checkout.has_address:
        form = CheckoutAddressForm(
            formdata=None,
            **{name: getattr(checkout, f"ship_{name}") for name in POSTAL_FIELDS},
        )
    else:
        form = CheckoutAddressForm() if formdata is not None else CheckoutAddressForm(formdata=None)
    form.saved_address.choices = [(str(address.id), address.full_name) for address in saved]
    form.saved_address.choices.append((NEW_ADDRESS, "A new address"))
    if formdata is None:
        default = str(saved[0].id) if saved and not checkout.has_address else NEW_ADDRESS
        form.saved_address.data = default
    form.saved_addresses = {str(address.id): address for address in saved}  # type: ignore[attr-defined]
    form.offers_address_book = user_id is not None  # type: ignore[attr-defined]
    return form


def address() -> ResponseReturnValue:
    try:
        checkout = open_checkout()
    except CheckoutNotFound as error:
        return step_redirect(error)
    if checkout.order_id is not None:
        return redirect(url_for("checkout.pay"), 303)
    return render_step("address.html", checkout, form=_address_form(checkout))


def save_address() -> ResponseReturnValue:
    try:
        checkout = open_checkout()
    except CheckoutNotFound as error:
        return step_redirect(error)
    form = _address_form(checkout, formdata=request.form)
    choice = form.saved_address.data or NEW_ADDRESS
    saved = form.saved_addresses.get(choice)  # type: ignore[attr-defined]
    if choice != NEW_ADDRESS and saved is None:
        form.saved_address.errors = ["Choose one of your addresses, or a new address."]
        return render_step("address.html", checkout, 422, form=form)
    source = saved if saved is not None else form
    values = {
        name: getattr(source, name) if saved is not None else getattr(form, name).data
        for name in POSTAL_FIELDS
    }
    try:
        address = services.checked_address(values)
        services.set_address(
            session.get(SESSION_KEY),
            current_cart_id(),
            address,
            save_to_address_book=saved is None and bool(form.save_to_address_book.data),
        )
    except CheckoutInvalidInput as error:
        for name, messages in error.fields.items():
            getattr(form, name).errors = messages
        return render_step("address.html", checkout, error.status, form=form)
    except (CheckoutNotFound, StepMissing) as error:
        return step_redirect(error)
    return redirect(url_for("checkout.shipping"), 303)


# -- shipping ---------------------------------------------------------------------------------


def _shipping_choices(checkout: Checkout) -> list[tuple[str, str, str, str]]:
    """``(code, name, price shown, delivery time)`` per method, for this cart's subtotal (with
    the tax of the address's country when the shop shows prices with tax included)."""
    policy = queries.pricing_policy()
    subtotal = cart_contents(checkout.cart_id).subtotal
    choices = []
    for method in policy.methods:
        cost = policy.shipping_cost(method, subtotal) if subtotal is not None else method.price
        if policy.prices_include_tax:  # shown as the review will: with the address's tax
            cost = gross_of(cost, policy.tax_rate(checkout.ship_country_code))
        shown = "Free" if cost.amount == 0 else cost.format()
        choices.append((method.code, method.name, shown, method.delivery_time))
    return choices


def shipping() -> ResponseReturnValue:
    try:
        checkout = open_checkout()
        if not checkout.has_address:
            raise StepMissing("address")
    except (CheckoutNotFound, StepMissing) as error:
        return step_redirect(error)
    form = ShippingForm(shipping_method=checkout.shipping_method_code or "")
    return render_step("shipping.html", checkout, form=form, methods=_shipping_choices(checkout))


def save_shipping() -> ResponseReturnValue:
    form = ShippingForm()
    try:
        checkout = open_checkout()
        services.set_shipping_method(
            session.get(SESSION_KEY), current_cart_id(), form.shipping_method.data or ""
        )
    except CheckoutInvalidInput as error:
        form.shipping_method.errors = error.fields["shipping_method"]
        methods = _shipping_choices(checkout)
        return render_step("shipping.html", checkout, error.status, form=form, methods=methods)
    except (CheckoutNotFound, StepMissing) as error:
        return step_redirect(error)
    return redirect(url_for("checkout.review"), 303)
