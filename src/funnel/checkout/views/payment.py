"""The checkout's last pages: review, pay, the return from 3-D Secure, the confirmation.

Registered on the ``checkout`` blueprint by ``register``. The pay form carries a
one-time token: a second submission of the same form (double click, back and resubmit, two
tabs) is sent to the first one's order, never places a second.
"""

from __future__ import annotations

from urllib.parse import urljoin

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from funnel.accounts.countries import COUNTRIES
from funnel.analytics.tracking import current_visitor_id
from funnel.cart.access import current_cart_id
from funnel.checkout import queries, services
from funnel.checkout.access import SESSION_KEY, may_see, open_checkout, remember_order
from funnel.checkout.errors import (
    CheckoutNotFound,
    StepMissing,
    SubmitTokenInvalid,
    TotalsChanged,
)
from funnel.checkout.forms import PayForm, ReviewForm
from funnel.checkout.models import Checkout
from funnel.checkout.services import CheckoutOutcome, OutcomeKind
from funnel.checkout.views.steps import CART_ERRORS, cart_refusal, render_step, step_redirect
from funnel.core.errors import DomainError
from funnel.core.http import content_security_policy
from funnel.extensions import limiter
from funnel.orders import queries as order_queries
from funnel.orders.models import Order
from funnel.payments.errors import GatewayNotEnabled, GatewayUnavailable, InvalidCard
from funnel.payments.gateways.test.gateway import TEST_CARD_OUTCOMES

CARD_FIELDS = ("card_number", "card_expiry", "card_cvc")


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/review", "review", review, methods=["GET"])
    bp.add_url_rule("/review", "confirm_review", confirm_review, methods=["POST"])
    bp.add_url_rule("/pay", "pay", pay, methods=["GET"])
    bp.add_url_rule("/pay", "submit_payment", limiter.limit("20/minute")(submit), methods=["POST"])
    bp.add_url_rule("/return/<reference>", "payment_return", payment_return, methods=["GET"])
    bp.add_url_rule("/card/<number>", "card", card, methods=["GET"])
    bp.add_url_rule("/complete/<number>", "complete", complete, methods=["GET"])


# -- review -----------------------------------------------------------------------------------


def _reviewable() -> Checkout:
    checkout = open_checkout()
    if checkout.order_id is not None:
        raise StepMissing("complete")
    if checkout.shipping_method_code is None:
        raise StepMissing("shipping" if checkout.has_address else "address")
    return checkout


def review(status: int = 200, message: str | None = None) -> ResponseReturnValue:
    try:
        checkout = _reviewable()
    except (CheckoutNotFound, StepMissing) as error:
        return step_redirect(error)
    return render_step("review.html", checkout, status, form=ReviewForm(), message=message)


def confirm_review() -> ResponseReturnValue:
    try:
        services.confirm_review(session.get(SESSION_KEY), current_cart_id())
    except CART_ERRORS as error:
        return cart_refusal(error)
    except (CheckoutNotFound, StepMissing) as error:
        return step_redirect(error)
    return redirect(url_for("checkout.pay"), 303)


# -- pay --------------------------------------------------------------------------------------


def _order_in_progress(checkout: Checkout) -> Response | None:
    """This browser's checkout placed an order: its page (the browser may see it)."""
    order = queries.order_of(checkout)
    if order is None:
        return None
    remember_order(order.number)
    return redirect(url_for("checkout.complete", number=order.number), 303)


def _pay_page(checkout: Checkout, form: PayForm, status: int = 200) -> ResponseReturnValue:
    gateways = queries.offered_gateways()
    form.payment_method.choices = [(gateway.name, gateway.label) for gateway in gateways]
    if not form.payment_method.data and gateways:
        form.payment_method.data = gateways[0].name
    form.submit_token.data = queries.submit_token(checkout)
    for name in CARD_FIELDS:  # a card number is never sent back to the browser
        getattr(form, name).data = ""
    return render_step(
        "pay.html",
        checkout,
        status,
        form=form,
        card_gateways=[gateway.name for gateway in gateways if gateway.takes_card_details],
        test_cards=TEST_CARD_OUTCOMES,
    )


def pay() -> ResponseReturnValue:
    try:
        checkout = open_checkout()
    except CheckoutNotFound as error:
        return step_redirect(error)
    in_progress = _order_in_progress(checkout)
    if in_progress is not None:
        return in_progress
    if queries.submit_token(checkout) is None:
        return step_redirect(StepMissing("review"))
    return _pay_page(checkout, PayForm(formdata=None))


def _card_input(form: PayForm) -> services.CardInput:
    number, expiry, cvc = (str(getattr(form, name).data or "") for name in CARD_FIELDS)
    return services.CardInput(number=number, expiry=expiry, cvc=cvc)


def _refused(form: PayForm, error: DomainError) -> ResponseReturnValue:
    checkout = open_checkout()
    if isinstance(error, InvalidCard | GatewayNotEnabled):
        for name, messages in error.extra.get("fields", {}).items():
            target = "payment_method" if name not in CARD_FIELDS else name
            getattr(form, target).errors = messages
        if isinstance(error, GatewayNotEnabled):
            form.payment_method.errors = [error.detail]
    return _pay_page(checkout, form, error.status)


def submit() -> ResponseReturnValue:
    form = PayForm()
    try:
        outcome = services.submit_payment(
            token=session.get(SESSION_KEY),
            cart_id=current_cart_id(),
            gateway=str(form.payment_method.data or ""),
            submit_token=str(form.submit_token.data or ""),
            card=_card_input(form),
            visitor_id=current_visitor_id(),
        )
    except (InvalidCard, GatewayNotEnabled) as error:
        try:
            return _refused(form, error)
        except CheckoutNotFound as missing:
            return step_redirect(missing)
    except CART_ERRORS as error:
        return cart_refusal(error)
    except TotalsChanged as error:
        return review(error.status, error.detail)
    except SubmitTokenInvalid as error:
        flash(error.detail, "error")
        return redirect(url_for("checkout.review"), 303)
    except (CheckoutNotFound, StepMissing) as error:
        return step_redirect(error)
    except GatewayUnavailable as error:
        # The order may be placed, its payment not yet answered: the pay page leads to it.
        flash(error.detail, "error")
        return redirect(url_for("checkout.pay"), 303)
    if outcome.number is not None:
        remember_order(outcome.number)
    return after_payment(outcome)


def after_payment(outcome: CheckoutOutcome) -> Response:
    if outcome.kind == OutcomeKind.REQUIRES_ACTION and outcome.next_action_url:
        return redirect(outcome.next_action_url, 303)
    if outcome.kind == OutcomeKind.REQUIRES_ACTION and outcome.number is not None:
        # The gateway takes the card with its own script (Stripe): on the card page.
        return redirect(url_for("checkout.card", number=outcome.number), 303)
    if outcome.kind == OutcomeKind.FAILED or outcome.number is None:
        note = "" if outcome.is_given_back else " Nothing was charged: please try again."
        flash(f"{outcome.message}{note}", "error")
        return redirect(url_for("checkout.pay"), 303)
    return redirect(url_for("checkout.complete", number=outcome.number), 303)


# -- after the payment ------------------------------------------------------------------------


def _buyers_order(number: str) -> Order:
    order = order_queries.find_order(number[:32])
    if not may_see(order):
        abort(404)
    assert order is not None
    return order


def payment_return(reference: str) -> ResponseReturnValue:
    """The gateway sends the customer back here after 3-D Secure, with the attempt's
    reference. Asking the gateway for the outcome (and recording it) is the one state change
    a GET makes: the gateway decided it, and asking twice changes nothing."""
    number = services.order_number_for_return(reference[:80])
    if number is None:
        flash("This payment did not lead to an order. Please pay again.", "error")
        return redirect(url_for("checkout.pay"), 303)
    order = _buyers_order(number)
    try:
        outcome = services.return_from_confirmation(order.number)
    except GatewayUnavailable as error:
        flash(error.detail, "error")
        return redirect(url_for("checkout.complete", number=order.number), 303)
    return after_payment(outcome)


def card(number: str) -> ResponseReturnValue:
    """The card page: the gateway's own script takes the card (Stripe's Payment Element),
    confirms the payment with the gateway and sends the customer to the return URL. The
    script is allowed by this page's Content-Security-Policy only."""
    order = _buyers_order(number)
    try:
        step = queries.card_step(order.number)
    except GatewayNotEnabled:
        abort(404)
    except GatewayUnavailable as error:
        flash(error.detail, "error")
        return redirect(url_for("checkout.complete", number=order.number), 303)
    if step is None:
        return redirect(url_for("checkout.complete", number=order.number), 303)
    base_url = str(current_app.config.get("BASE_URL") or "").rstrip("/") + "/"
    page = render_template(
        "checkout/card.html",
        order=order,
        step=step,
        return_url=urljoin(base_url, step.return_path.lstrip("/")),
    )
    policy = content_security_policy(step.confirmation.policy_sources)
    return page, 200, {"Cache-Control": "no-store", "Content-Security-Policy": policy}


def complete(number: str) -> ResponseReturnValue:
    order = _buyers_order(number)
    details = order_queries.order_details(order)
    payment = details.live_payment or (details.payments[-1] if details.payments else None)
    page = render_template(
        "checkout/complete.html",
        details=details,
        order=order,
        payment=payment,
        countries=COUNTRIES,
    )
    return page, 200, {"Cache-Control": "no-store"}
