"""US-63: a declined card places no order and burns no number; staff read it on Failed
payments; money taken for a cart that changed while it was paid is given back."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from funnel.accounts.models import Role
from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.cart import services as cart_services
from funnel.extensions import db
from funnel.payments import queries as payment_queries
from funnel.payments import services as payment_services
from funnel.payments.models import Payment, PaymentStatus, TransactionKind
from tests.checkout.helpers import (
    CARD_3DS,
    CARD_DECLINED,
    CARD_INSUFFICIENT_FUNDS,
    CARD_SUCCEEDS,
    go_to_pay,
    orders,
    path_of,
    pay,
    submit_token_of,
    the_checkout,
)
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.story("US-63")


def payments() -> list[Payment]:
    return list(
        db.session.scalars(
            select(Payment).order_by(Payment.id).execution_options(populate_existing=True)
        )
    )


def test_three_declined_cards_then_a_good_one_make_one_order_and_four_attempts(
    buyer: FlaskClient, mug: Any
) -> None:
    # given a guest at the pay step whose first three cards fail
    token = go_to_pay(buyer)
    for card in (CARD_DECLINED, CARD_INSUFFICIENT_FUNDS, CARD_DECLINED):
        assert path_of(pay(buyer, token, card)) == "/checkout/pay"
        token = submit_token_of(buyer.get("/checkout/pay").get_data(as_text=True))

    # when the fourth card is good
    paid = pay(buyer, token, CARD_SUCCEEDS)

    # then the owner's list holds the one paid order, and its number is the only one used
    [order] = orders()
    assert path_of(paid) == f"/checkout/complete/{order.number}"
    assert order.status.value == "paid"
    assert [payment.status for payment in payments()] == [
        PaymentStatus.FAILED,
        PaymentStatus.FAILED,
        PaymentStatus.FAILED,
        PaymentStatus.SUCCEEDED,
    ]
    assert [payment.payable_reference for payment in payments()][-1] == order.number
    # and the funnel counted four payment attempts
    attempted = db.session.scalars(
        select(FunnelEvent).where(FunnelEvent.stage == FunnelStage.PAYMENT_ATTEMPTED)
    ).all()
    assert len(attempted) == 4


def test_staff_see_failed_payments_with_who_how_much_and_why(
    app: Flask, buyer: FlaskClient, mug: Any, signed_in: Any
) -> None:
    # given a declined card and a refused 3-D Secure check
    pay(buyer, go_to_pay(buyer), CARD_DECLINED)
    token = submit_token_of(buyer.get("/checkout/pay").get_data(as_text=True))
    challenge = path_of(pay(buyer, token, CARD_3DS))
    back = buyer.post(challenge, data={"decision": "refuse"})
    buyer.get(back.headers["Location"])
    [cancelled] = orders()

    # when a clerk with the orders group opens Failed payments, from the orders list
    clerk = signed_in(UserFactory(role=Role.STAFF, permission_groups="orders"))
    listing = clerk.get("/staff/orders").get_data(as_text=True)
    page = clerk.get("/staff/failed-payments")

    # then both are there, newest first, with the email, amount, card and reason
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'href="/staff/failed-payments"' in listing
    assert "2 failed payments, newest first." in text
    assert text.index("The card check with your bank was not completed.") < text.index(
        "Your card was declined."
    )
    assert the_checkout().email in text
    assert f'href="/staff/orders/{cancelled.number}"' in text
    assert "none placed" in text
    assert "ending 0002" in text


def test_failed_payments_are_for_staff_who_may_see_orders(
    app: Flask, buyer: FlaskClient, signed_in: Any
) -> None:
    cataloguer = signed_in(UserFactory(role=Role.STAFF, permission_groups="catalogue"))
    customer = signed_in(UserFactory(role=Role.CUSTOMER))

    assert cataloguer.get("/staff/failed-payments").status_code == 403
    assert customer.get("/staff/failed-payments").status_code in {403, 404}
    assert buyer.get("/staff/failed-payments").status_code in {302, 303}


def test_a_cart_changed_while_its_card_was_charged_gets_the_money_back_and_no_order(
    app: Flask, buyer: FlaskClient, mug: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a guest paying, whose cart changes (another tab adds a mug) while the gateway
    # charges the card
    token = go_to_pay(buyer)
    cart_id = the_checkout().cart_id
    submit = payment_services.submit_payment

    def charge_then_change_the_cart(*arguments: Any, **keywords: Any) -> Any:
        result = submit(*arguments, **keywords)
        cart_services.add_item(cart_id, mug.id, 1)
        return result

    monkeypatch.setattr(
        "funnel.checkout.services.outcomes.payments.submit_payment", charge_then_change_the_cart
    )

    # when the answer comes back
    answer = pay(buyer, token, CARD_SUCCEEDS)

    # then no order is placed, the charge is refunded in full, and the customer is told
    [payment] = payments()
    refunds = [
        each.amount_minor
        for each in payment_queries.payment_transactions(payment.id)
        if each.kind == TransactionKind.REFUND
    ]
    assert orders() == []
    assert path_of(answer) == "/checkout/pay"
    assert (payment.status, refunds) == (PaymentStatus.REFUNDED, [payment.amount_minor])
    page = buyer.get("/checkout/pay", follow_redirects=True).get_data(as_text=True)
    assert "Your payment is given back." in page


def test_the_staff_api_lists_failed_payments_for_orders_view_page_by_page(
    app: Flask, buyer: FlaskClient, mug: Any, bearer: Any
) -> None:
    # given two declined attempts on a checkout
    pay(buyer, go_to_pay(buyer), CARD_DECLINED)
    pay(buyer, submit_token_of(buyer.get("/checkout/pay").get_data(as_text=True)), CARD_DECLINED)
    clerk = UserFactory(role=Role.STAFF, permission_groups="orders")
    cataloguer = UserFactory(role=Role.STAFF, permission_groups="catalogue")
    client = app.test_client()

    # when a clerk reads them one to a page, and a cataloguer tries
    first = client.get("/api/v1/staff/failed-payments?limit=1", headers=bearer(clerk))
    cursor = first.get_json()["next_cursor"]
    second = client.get(
        f"/api/v1/staff/failed-payments?limit=1&cursor={cursor}", headers=bearer(clerk)
    )
    refused = client.get("/api/v1/staff/failed-payments", headers=bearer(cataloguer))

    # then each failed payment comes once, newest first, with who, how much and why
    [newest] = first.get_json()["items"]
    [oldest] = second.get_json()["items"]
    assert newest["id"] != oldest["id"]
    assert second.get_json()["next_cursor"] is None
    assert newest["email"] == the_checkout().email
    assert newest["amount"] == {"amount": payments()[0].amount_minor, "currency": "USD"}
    assert (newest["payment_method"], newest["reason"]) == ("test", "Your card was declined.")
    assert newest["order_number"] is None
    assert newest["card"].endswith("ending 0002")
    assert refused.status_code == 403
