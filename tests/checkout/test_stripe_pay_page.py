"""Paying with Stripe in the storefront: the order is placed, the card page hands the card
to Stripe's Payment Element (Stripe's script is allowed on that page only), and the return
URL or the webhook, whichever comes first, pays the order once. Stripe's API is the local
stand-in; the browser's part (Stripe.js) is played by the stand-in's ``confirm``."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from funnel.extensions import db
from funnel.orders.models import Order
from funnel.payments.models import Payment, PaymentStatus, WebhookEvent
from tests.checkout.helpers import count, go_to_pay, path_of, pay
from tests.checkout.test_stripe_webhooks import in_threads, status_changes
from tests.support.stripe_standin import StripeStandIn, signed, stripe_enabled

pytestmark = pytest.mark.story("US-67")
STRIPE_SOURCES = "https://js.stripe.com"


@pytest.fixture
def standin(app: Flask) -> Iterator[StripeStandIn]:
    with stripe_enabled(app) as running:
        yield running


def the_order() -> Order:
    db.session.commit()
    return db.session.scalars(select(Order)).one()


def the_payment() -> Payment:
    db.session.commit()
    return db.session.scalars(select(Payment)).one()


def place_with_stripe(buyer: FlaskClient) -> str:
    """Pay with stripe; the path the shop sends the browser to."""
    response = pay(buyer, go_to_pay(buyer), card=None, gateway="stripe")
    assert response.status_code == 303
    return path_of(response)


def test_the_pay_page_offers_stripe_without_card_fields(
    buyer: FlaskClient, standin: StripeStandIn
) -> None:
    go_to_pay(buyer)

    page = buyer.get("/checkout/pay")

    html = page.get_data(as_text=True)
    assert 'value="stripe"' in html
    assert 'id="card-fields"' not in html  # no card is typed into the shop
    assert STRIPE_SOURCES not in page.headers["Content-Security-Policy"]
    assert STRIPE_SOURCES not in html


def test_paying_with_stripe_leads_to_the_card_page_with_stripes_script(
    buyer: FlaskClient, standin: StripeStandIn
) -> None:
    # when the customer places the order with stripe
    path = place_with_stripe(buyer)

    # then the order awaits the card, taken on the card page by Stripe's Payment Element
    order = the_order()
    assert (path, order.status.value) == (f"/checkout/card/{order.number}", "pending_payment")
    page = buyer.get(path)
    html = page.get_data(as_text=True)
    intent = standin.intents[the_payment().gateway_payment_id]
    assert page.status_code == 200
    assert f'data-client-secret="{intent["client_secret"]}"' in html
    assert 'data-publishable-key="pk_test_standin"' in html
    assert 'data-return-url="http://127.0.0.1:5000/checkout/return/checkout:' in html
    assert '<script src="https://js.stripe.com/v3/"></script>' in html
    assert page.headers["Cache-Control"] == "no-store"
    assert (intent["amount"], intent["currency"]) == (order.total_minor, order.currency.lower())


def test_the_card_page_alone_allows_stripes_script(
    buyer: FlaskClient, standin: StripeStandIn
) -> None:
    path = place_with_stripe(buyer)

    policy = buyer.get(path).headers["Content-Security-Policy"]

    assert policy == (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "script-src 'self' https://js.stripe.com https://*.js.stripe.com; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; object-src 'none'; "
        "frame-src 'self' https://js.stripe.com https://*.js.stripe.com "
        "https://hooks.stripe.com; connect-src 'self' https://api.stripe.com"
    )
    for other in ("/", f"/checkout/complete/{the_order().number}"):
        assert STRIPE_SOURCES not in buyer.get(other).headers["Content-Security-Policy"]


def test_the_card_page_is_the_buyers_only(
    buyer: FlaskClient, standin: StripeStandIn, app: Flask
) -> None:
    path = place_with_stripe(buyer)

    assert app.test_client().get(path).status_code == 404


def test_the_card_page_is_gone_once_stripe_is_disabled(
    buyer: FlaskClient, standin: StripeStandIn, app: Flask
) -> None:
    path = place_with_stripe(buyer)
    app.config["PAYMENT_GATEWAYS"] = "manual"

    assert buyer.get(path).status_code == 404


@pytest.mark.parametrize("first", ["return", "webhook"])
def test_the_return_url_and_the_webhook_pay_the_order_once(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn, first: str
) -> None:
    # given a customer whose card Stripe accepted on the card page
    place_with_stripe(buyer)
    payment = the_payment()
    standin.confirm(payment.gateway_payment_id)
    return_path = urlsplit(payment.return_url).path
    body = standin.event("payment_intent.succeeded", payment.gateway_payment_id)

    # when the browser comes back and Stripe's webhook arrives, in either order
    def come_back() -> str:
        response = buyer.get(f"{return_path}?redirect_status=succeeded")
        assert response.status_code == 303
        return path_of(response)

    def webhook() -> str:
        response = client.post("/webhooks/stripe", data=body.encode(), headers=signed(body))
        return response.get_data(as_text=True)

    answers = [come_back(), webhook()] if first == "return" else [webhook(), come_back()]

    # then the order is paid, by one change of the payment
    order = the_order()
    assert order.status.value == "paid"
    assert f"/checkout/complete/{order.number}" in answers
    assert "succeeded" in answers
    assert the_payment().status == PaymentStatus.SUCCEEDED
    assert count(WebhookEvent) == 1
    page = buyer.get(f"/checkout/complete/{order.number}").get_data(as_text=True)
    assert f"Thank you! Your order {order.number} is confirmed." in page


def test_the_return_url_and_the_webhook_racing_pay_the_order_once(
    app: Flask, buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn
) -> None:
    # given a customer whose card Stripe accepted on the card page
    place_with_stripe(buyer)
    payment = the_payment()
    standin.confirm(payment.gateway_payment_id)
    return_path = urlsplit(payment.return_url).path
    body = standin.event("payment_intent.succeeded", payment.gateway_payment_id)
    changes_before = len(status_changes())

    # when the browser comes back and Stripe's webhook arrives at the same moment
    def come_back() -> int:
        return buyer.get(f"{return_path}?redirect_status=succeeded").status_code

    def webhook() -> int:
        return client.post("/webhooks/stripe", data=body.encode(), headers=signed(body)).status_code

    answers = in_threads(app, [come_back, webhook])

    # then both are answered, and the payment changed once: the order paid, one event kept
    assert answers == [303, 200]
    assert len(status_changes()) == changes_before + 1
    assert the_payment().status == PaymentStatus.SUCCEEDED
    assert the_order().status.value == "paid"
    assert count(WebhookEvent) == 1


def test_a_paid_orders_card_page_leads_to_its_confirmation(
    buyer: FlaskClient, standin: StripeStandIn
) -> None:
    path = place_with_stripe(buyer)
    payment = the_payment()
    standin.confirm(payment.gateway_payment_id)
    buyer.get(urlsplit(payment.return_url).path)

    response = buyer.get(path)

    assert (response.status_code, path_of(response)) == (
        303,
        f"/checkout/complete/{the_order().number}",
    )


def test_a_card_declined_at_stripe_cancels_the_order_and_frees_the_cart_to_pay_again(
    buyer: FlaskClient, standin: StripeStandIn
) -> None:
    place_with_stripe(buyer)
    payment = the_payment()
    standin.confirm(payment.gateway_payment_id, "declined")

    response = buyer.get(urlsplit(payment.return_url).path, follow_redirects=True)

    assert the_order().status.value == "cancelled"
    assert "Your card was declined." in response.get_data(as_text=True)
