"""The whole checkout through the Flask test client, with each test card and bank transfer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from funnel.analytics.models import FunnelEvent
from funnel.cart.queries import cart_contents
from funnel.checkout.models import CheckoutStatus
from funnel.core import clock
from funnel.extensions import db
from funnel.inventory import queries as inventory_queries
from funnel.payments import queries as payment_queries
from funnel.payments.gateways.test import sandbox
from funnel.payments.models import Payment
from tests.checkout.helpers import (
    CARD_3DS,
    CARD_DECLINED,
    CARD_INSUFFICIENT_FUNDS,
    CARD_PROCESSING,
    CARD_SUCCEEDS,
    go_to_pay,
    orders,
    path_of,
    pay,
    stock_of,
    submit_token_of,
    the_checkout,
)
from tests.payments.helpers import signed_event_for
from tests.support.mailbox import Mailbox


def cart_lines_of(checkout_cart_id: int) -> list[tuple[str, int]]:
    return [(line.sku, line.quantity) for line in cart_contents(checkout_cart_id).lines]


def payment_statuses() -> list[str]:
    """Every payment's status, oldest first (an attempt's and its order's alike)."""
    return [
        payment.status.value for payment in db.session.scalars(select(Payment).order_by(Payment.id))
    ]


@pytest.mark.story("US-20")
@pytest.mark.story("US-21")
@pytest.mark.story("US-23")
def test_a_guest_pays_with_the_4242_card_and_gets_the_confirmation_and_email(
    buyer: FlaskClient, mug: Any, mailbox: Any
) -> None:
    # given a guest with 2 mugs (2 x 12.00) at the pay step, shipping to Great Britain
    token = go_to_pay(buyer)

    # when they pay with the card that succeeds
    response = pay(buyer, token, CARD_SUCCEEDS)

    # then one order is paid: 24.00 + 4.99 standard shipping + 20 % tax on both = 34.79
    [order] = orders()
    assert (response.status_code, path_of(response)) == (303, f"/checkout/complete/{order.number}")
    assert (order.status.value, order.email, order.user_id) == ("paid", "guest@example.com", None)
    assert (order.subtotal_minor, order.shipping_minor, order.tax_minor, order.total_minor) == (
        2400,
        499,
        580,
        3479,
    )
    assert payment_statuses() == ["succeeded"]
    # and the stock was taken once, the cart emptied, the checkout completed
    assert stock_of(mug.id) == 3
    assert inventory_queries.ledger_discrepancies() == []
    assert cart_lines_of(the_checkout().cart_id) == []
    assert the_checkout().status == CheckoutStatus.COMPLETED
    # and the confirmation page and the email (with the guest's signed link) say so
    page = buyer.get(path_of(response)).get_data(as_text=True)
    assert f"Thank you! Your order {order.number} is confirmed." in page
    assert [message["Subject"] for message in mailbox] == [f"Order {order.number} confirmed"]
    assert f"/orders/{order.number}?key=" in mailbox.body(mailbox[0])
    # and the funnel saw the checkout start, the payment attempt and the sale, once each
    stages = db.session.scalars(select(FunnelEvent.stage).order_by(FunnelEvent.id)).all()
    assert [stage.value for stage in stages if stage.value != "visit"][-3:] == [
        "checkout_started",
        "payment_attempted",
        "order_paid",
    ]


@pytest.mark.story("US-21")
@pytest.mark.story("US-63")
@pytest.mark.parametrize(
    ("card", "message"),
    [
        (CARD_DECLINED, "Your card was declined."),
        (CARD_INSUFFICIENT_FUNDS, "Your card has insufficient funds."),
    ],
)
def test_a_failed_card_leaves_the_cart_intact_returns_the_stock_and_lets_them_retry(
    buyer: FlaskClient, mug: Any, card: str, message: str, mailbox: Mailbox
) -> None:
    # given a guest at the pay step
    token = go_to_pay(buyer)

    # when their card fails
    response = pay(buyer, token, card)

    # then they are back on the pay step with the gateway's reason, nothing was charged
    assert (response.status_code, path_of(response)) == (303, "/checkout/pay")
    page = buyer.get("/checkout/pay").get_data(as_text=True)
    assert f"{message} Nothing was charged: please try again." in page
    # and no order was placed: the failed payment belongs to the checkout's attempt
    assert orders() == []
    assert payment_statuses() == ["failed"]
    # and the cart is intact, the stock still held for the retry, the ledger balanced
    assert cart_lines_of(the_checkout().cart_id) == [("MUG-1", 2)]
    assert stock_of(mug.id) == 5
    assert inventory_queries.ledger_discrepancies() == []
    assert inventory_queries.available_quantities([mug.id]) == {mug.id: 3}
    # and no email for an attempt the page already explained
    assert [message["Subject"] for message in mailbox] == []

    # when they try again with a good card, from the page they were sent back to
    retry = pay(buyer, submit_token_of(page), CARD_SUCCEEDS)

    # then the one order is paid and the stock taken once
    [order] = orders()
    assert order.status.value == "paid"
    assert path_of(retry) == f"/checkout/complete/{order.number}"
    assert payment_statuses() == ["failed", "succeeded"]
    assert stock_of(mug.id) == 3


def follow_challenge(client: FlaskClient, response: Any, decision: str) -> Any:
    """Play the customer on the test bank's 3-D Secure page; returns the shop's answer."""
    challenge = urlsplit(response.headers["Location"]).path
    assert challenge.startswith("/payments/test/challenge/")
    assert client.get(challenge).status_code == 200
    back = client.post(challenge, data={"decision": decision})
    assert back.status_code == 303
    return_url = urlsplit(back.headers["Location"])
    assert return_url.path.startswith("/checkout/return/")
    return client.get(f"{return_url.path}?{return_url.query}")


@pytest.mark.story("US-21")
def test_the_3d_secure_card_approved_pays_the_order(buyer: FlaskClient, mug: Any) -> None:
    # given a guest who pays with the card that asks for 3-D Secure
    response = pay(buyer, go_to_pay(buyer), CARD_3DS)
    [order] = orders()
    assert order.status.value == "pending_payment"
    assert cart_lines_of(the_checkout().cart_id) == [("MUG-1", 2)]

    # when they approve on the bank's page and come back
    answer = follow_challenge(buyer, response, "approve")

    # then the order is paid and they see the confirmation
    assert path_of(answer) == f"/checkout/complete/{order.number}"
    assert [o.status.value for o in orders()] == ["paid"]
    assert payment_statuses() == ["succeeded"]
    assert cart_lines_of(the_checkout().cart_id) == []
    assert stock_of(mug.id) == 3


@pytest.mark.story("US-21")
def test_the_3d_secure_card_refused_cancels_the_order_and_keeps_the_cart(
    buyer: FlaskClient, mug: Any
) -> None:
    response = pay(buyer, go_to_pay(buyer), CARD_3DS)

    answer = follow_challenge(buyer, response, "refuse")

    assert path_of(answer) == "/checkout/pay"
    page = buyer.get("/checkout/pay").get_data(as_text=True)
    assert "The card check with your bank was not completed." in page
    # the order placed while 3-D Secure was under way is cancelled, its stock held again
    assert [o.status.value for o in orders()] == ["cancelled"]
    assert payment_statuses() == ["failed"]
    assert cart_lines_of(the_checkout().cart_id) == [("MUG-1", 2)]
    assert stock_of(mug.id) == 5


@pytest.mark.story("US-21")
@pytest.mark.story("US-36")
@pytest.mark.story("US-45")
def test_the_processing_card_is_paid_later_by_the_signed_webhook(
    buyer: FlaskClient, mug: Any, mailbox: Any
) -> None:
    # given a guest who paid with the card that stays processing
    response = pay(buyer, go_to_pay(buyer), CARD_PROCESSING)
    [order] = orders()
    page = buyer.get(path_of(response)).get_data(as_text=True)
    assert "Your payment is being confirmed." in page
    assert (order.status.value, payment_statuses()) == ("pending_payment", ["processing"])
    assert cart_lines_of(the_checkout().cart_id) == []
    assert list(mailbox) == []

    # when the gateway settles it and delivers its signed event to the webhook endpoint
    sandbox.settle_due_charges(clock.utcnow() + timedelta(seconds=60))
    [payment] = payment_queries.payments_for(order.number)
    body, headers = signed_event_for(payment.id)
    delivery = buyer.post("/webhooks/test", data=body, headers=headers)

    # then the order is paid, once, and the confirmation email sent
    assert (delivery.status_code, delivery.get_data(as_text=True)) == (200, "succeeded")
    assert [o.status.value for o in orders()] == ["paid"]
    assert [message["Subject"] for message in mailbox] == [f"Order {order.number} confirmed"]
    assert "is confirmed" in buyer.get(path_of(response)).get_data(as_text=True)


@pytest.mark.story("US-22")
def test_bank_transfer_places_the_order_awaiting_payment_with_the_bank_details(
    buyer: FlaskClient, mug: Any, mailbox: Any
) -> None:
    # when a guest chooses bank transfer
    response = pay(buyer, go_to_pay(buyer), None, gateway="manual")

    # then the order waits for the transfer, the stock is taken, the cart emptied
    [order] = orders()
    assert path_of(response) == f"/checkout/complete/{order.number}"
    assert (order.status.value, order.payment_gateway) == ("pending_payment", "manual")
    assert payment_statuses() == ["pending"]
    assert stock_of(mug.id) == 3
    assert cart_lines_of(the_checkout().cart_id) == []
    # and the page and the email give the amount and the order number as the reference
    page = buyer.get(path_of(response)).get_data(as_text=True)
    assert f"with the payment reference <strong>{order.number}</strong>" in page
    assert [message["Subject"] for message in mailbox] == [
        f"Order {order.number}: awaiting your bank transfer"
    ]
    assert "$34.79" in mailbox.body(mailbox[0])


@pytest.mark.story("US-22")
@pytest.mark.config(PAYMENT_GATEWAYS="test,manual,cod")
def test_cash_on_delivery_places_the_order_awaiting_payment_and_says_to_pay_on_delivery(
    buyer: FlaskClient, mug: Any, mailbox: Any
) -> None:
    # given the pay page offers cash on delivery
    token = go_to_pay(buyer)
    assert 'value="cod"' in buyer.get("/checkout/pay").get_data(as_text=True)

    # when a guest chooses it
    response = pay(buyer, token, None, gateway="cod")

    # then the order waits for its payment (pending), the stock is taken, the cart emptied
    [order] = orders()
    assert path_of(response) == f"/checkout/complete/{order.number}"
    assert (order.status.value, order.payment_gateway) == ("pending_payment", "cod")
    assert payment_statuses() == ["pending"]
    assert stock_of(mug.id) == 3
    assert cart_lines_of(the_checkout().cart_id) == []
    # and the page and the confirmation email say to pay the amount on delivery
    page = buyer.get(path_of(response)).get_data(as_text=True)
    assert "You pay on delivery: please have <strong>$34.79</strong> ready in cash" in page
    [message] = mailbox
    assert message["Subject"] == f"Order {order.number} confirmed: pay on delivery"
    assert "please have $34.79 ready in cash for the carrier" in mailbox.body(message)
