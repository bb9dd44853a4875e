"""US-51: the business metrics move with real actions, with the right labels, once committed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from celery import shared_task
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from funnel.core import clock, metrics
from funnel.core.database import transaction
from funnel.core.money import Money
from funnel.extensions import db
from funnel.inventory.tasks import DELETE_EXPIRED_RESERVATIONS
from funnel.payments.models import Payment
from funnel.payments.services import refund_payment
from tests.checkout.helpers import CARD_DECLINED, CARD_SUCCEEDS, add_to_cart, go_to_pay, pay
from tests.factories.inventory import StockReservationFactory, stocked_variant
from tests.monitoring.scrape import moved, scrape

pytestmark = pytest.mark.story("US-51")

FAILING_JOB = "tests.monitoring.always_fails"


@shared_task(name=FAILING_JOB)
def always_fails() -> None:
    raise RuntimeError("this job always fails")


def test_a_purchase_counts_the_order_the_payment_the_revenue_the_stages_and_the_email(
    shopper: FlaskClient, mug: Any, mailbox: Any
) -> None:
    # given a counted browser with 2 mugs in its cart, at the pay step
    before = scrape(shopper)
    add_to_cart(shopper, mug, 2)
    token = go_to_pay(shopper)

    # when it pays with the card that succeeds (24.00 + 4.99 shipping + 20 % tax = 34.79)
    response = pay(shopper, token, CARD_SUCCEEDS)
    assert response.status_code == 303

    # then the scrape shows one order, one successful test-gateway payment and its revenue
    after = scrape(shopper)
    assert moved(before, after, "funnel_orders_placed_total", currency="USD") == 1
    assert moved(before, after, "funnel_orders_placed_minor_total", currency="USD") == 3479
    assert moved(before, after, "funnel_payments_total", gateway="test", outcome="succeeded") == 1
    assert moved(before, after, "funnel_payments_total", gateway="test", outcome="failed") == 0
    assert moved(before, after, "funnel_revenue_minor_total", currency="USD") == 3479
    # and each funnel stage the purchase went through, once
    for stage in ("add_to_cart", "checkout_started", "payment_attempted", "order_paid"):
        assert moved(before, after, "funnel_sales_funnel_events_total", stage=stage) == 1, stage
    # and the confirmation email, sent
    assert (
        moved(before, after, "funnel_emails_total", kind="order_confirmation", outcome="sent") == 1
    )
    # and the pay request, by its URL rule, method and status, with its time in SQL
    requests = {"endpoint": "/checkout/pay", "method": "POST"}
    assert moved(before, after, "funnel_http_requests_total", **requests, status="303") == 1
    assert moved(before, after, "funnel_http_request_duration_seconds_count", **requests) == 1
    assert moved(before, after, "funnel_http_request_db_statements_count", **requests) == 1
    assert moved(before, after, "funnel_http_request_db_statements_sum", **requests) >= 10
    assert moved(before, after, "funnel_http_request_db_duration_seconds_sum", **requests) > 0

    # when staff refund 10.00 of it through the gateway
    payment = db.session.scalars(select(Payment)).one()
    refund_payment(payment.id, Money(1000, "USD"), "refund-of-ten-dollars")

    # then one successful refund of 1000 cents is counted
    refunded = scrape(shopper)
    assert moved(after, refunded, "funnel_refunds_total", gateway="test", outcome="succeeded") == 1
    assert moved(after, refunded, "funnel_refunded_minor_total", currency="USD") == 1000


def test_a_declined_card_counts_a_failed_payment_and_no_revenue(
    shopper: FlaskClient, mug: Any, mailbox: Any
) -> None:
    # given a browser at the pay step
    add_to_cart(shopper, mug, 2)
    token = go_to_pay(shopper)
    before = scrape(shopper)

    # when its card is declined
    pay(shopper, token, CARD_DECLINED)

    # then a failed test-gateway payment is counted, and no money taken, nor order paid
    after = scrape(shopper)
    assert moved(before, after, "funnel_payments_total", gateway="test", outcome="failed") == 1
    assert moved(before, after, "funnel_payments_total", gateway="test", outcome="succeeded") == 0
    assert moved(before, after, "funnel_revenue_minor_total", currency="USD") == 0
    assert moved(before, after, "funnel_sales_funnel_events_total", stage="order_paid") == 0
    assert moved(before, after, "funnel_sales_funnel_events_total", stage="payment_attempted") == 1


def test_an_add_to_cart_counts_its_stage_and_its_request_by_url_rule_never_by_path(
    shopper: FlaskClient, mug: Any
) -> None:
    # given a shop with a mug
    before = scrape(shopper)

    # when a browser adds it to its cart, asks for two pages that do not exist, and sends a
    # method of its own making
    add_to_cart(shopper, mug, 1)
    shopper.get("/no-such-page-1")
    shopper.get("/no-such-page-2")
    shopper.open("/cart", method="BREW")

    # then the stage and the request (its URL rule, its redirect) are counted
    after = scrape(shopper)
    assert moved(before, after, "funnel_sales_funnel_events_total", stage="add_to_cart") == 1
    cart = {"endpoint": "/cart/lines", "method": "POST"}
    assert moved(before, after, "funnel_http_requests_total", **cart, status="303") == 1
    # and the unknown paths share one label value: no raw path ever names a series
    unmatched = {"endpoint": "<unmatched>", "method": "GET", "status": "404"}
    assert moved(before, after, "funnel_http_requests_total", **unmatched) == 2
    made_up = {"endpoint": "<unmatched>", "method": "other", "status": "405"}
    assert moved(before, after, "funnel_http_requests_total", **made_up) == 1
    assert all("no-such-page" not in str(labels) for _name, labels in after)


def test_webhooks_are_counted_by_gateway_and_result_and_unknown_gateways_share_one_label(
    client: FlaskClient,
) -> None:
    before = scrape(client)

    # when a webhook with a bad signature reaches the test gateway, and one an unknown gateway
    client.post("/webhooks/test", data=b"{}", headers={"Content-Type": "application/json"})
    client.post("/webhooks/made-up-gateway", data=b"{}")

    # then each is counted, the unknown one without its made-up name
    after = scrape(client)
    assert (
        moved(before, after, "funnel_webhooks_received_total", gateway="test", result="rejected")
        == 1
    )
    unknown = {"gateway": "unknown", "result": "unknown_gateway"}
    assert moved(before, after, "funnel_webhooks_received_total", **unknown) == 1
    assert all("made-up-gateway" not in str(labels) for _name, labels in after)


def test_selling_the_last_units_counts_a_stock_out(shopper: FlaskClient, mailbox: Any) -> None:
    # given a variant with 2 units left, both in a browser's cart
    variant = stocked_variant(2)
    add_to_cart(shopper, variant, 2)
    token = go_to_pay(shopper)
    before = scrape(shopper)

    # when the browser buys them
    pay(shopper, token, CARD_SUCCEEDS)

    # then one stock-out by a sale is counted
    after = scrape(shopper)
    assert moved(before, after, "funnel_stock_outs_total", reason="sale") == 1


def test_the_expiry_job_counts_its_run_and_the_reservations_it_deleted(
    app: Flask, client: FlaskClient
) -> None:
    # given two reservations that lapsed a minute ago and one still held
    lapsed = clock.utcnow() - timedelta(minutes=1)
    StockReservationFactory(expires_at=lapsed)
    StockReservationFactory(expires_at=lapsed)
    StockReservationFactory()
    before = scrape(client)

    # when the expiry job runs
    app.extensions["celery"].tasks[DELETE_EXPIRED_RESERVATIONS].delay()

    # then two expiries and one successful run of that job, with its duration, are counted
    after = scrape(client)
    assert moved(before, after, "funnel_reservations_expired_total") == 2
    job = {"task": DELETE_EXPIRED_RESERVATIONS}
    assert moved(before, after, "funnel_jobs_total", **job, outcome="succeeded") == 1
    assert moved(before, after, "funnel_job_duration_seconds_count", **job) == 1


def test_a_failing_job_is_counted_as_failed(app: Flask, client: FlaskClient) -> None:
    before = scrape(client)

    with pytest.raises(RuntimeError, match="always fails"):
        always_fails.delay()

    after = scrape(client)
    assert moved(before, after, "funnel_jobs_total", task=FAILING_JOB, outcome="failed") == 1
    assert moved(before, after, "funnel_jobs_total", task=FAILING_JOB, outcome="succeeded") == 0


def place_then_fail() -> None:
    with transaction():
        metrics.order_placed("EUR", 500)
        raise RuntimeError("the order's transaction failed")


@pytest.mark.backends("sqlite")
def test_a_business_event_rolled_back_is_never_counted(client: FlaskClient) -> None:
    # given an order counted in a transaction that then fails
    before = scrape(client)
    with pytest.raises(RuntimeError, match="failed"):
        place_then_fail()

    # when another commits
    with transaction():
        metrics.order_placed("EUR", 700)

    # then only the committed one is counted
    after = scrape(client)
    assert moved(before, after, "funnel_orders_placed_total", currency="EUR") == 1
    assert moved(before, after, "funnel_orders_placed_minor_total", currency="EUR") == 700


def register(client: FlaskClient, email: str) -> None:
    password = "tulip-moon-42-river"
    response = client.post(
        "/account/register",
        data={"email": email, "password": password, "confirm_password": password},
    )
    assert response.status_code == 302


def test_emails_are_counted_sent_and_failed_by_kind(
    app: Flask, client: FlaskClient, mailbox: Any
) -> None:
    before = scrape(client)

    # when one visitor registers while the mail server answers, and another while it is down
    register(client, "ann@example.com")
    app.config["MAIL_PORT"] = 1
    register(app.test_client(), "bob@example.com")

    # then one verification email is counted sent and one failed
    after = scrape(client)
    assert moved(before, after, "funnel_emails_total", kind="verify_email", outcome="sent") == 1
    assert moved(before, after, "funnel_emails_total", kind="verify_email", outcome="failed") == 1
