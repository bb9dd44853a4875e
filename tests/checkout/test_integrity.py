"""Nothing doubled, nothing half-written, nothing secret kept: double submits, concurrent
webhooks, a failure inside the placing transaction, card numbers, and the expiry job."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from funnel.checkout import services
from funnel.checkout.models import Checkout, CheckoutStatus
from funnel.checkout.services import placing
from funnel.core import clock
from funnel.extensions import db
from funnel.inventory import queries as inventory_queries
from funnel.orders import queries as order_queries
from funnel.payments import queries as payment_queries
from funnel.payments.errors import PaymentInProgress
from funnel.payments.gateways.test import sandbox
from tests.checkout.helpers import (
    CARD_3DS,
    CARD_DECLINED,
    CARD_INSUFFICIENT_FUNDS,
    CARD_PROCESSING,
    CARD_SUCCEEDS,
    count,
    counts,
    go_to_pay,
    orders,
    path_of,
    pay,
    stock_of,
    the_checkout,
)
from tests.payments.helpers import sandbox_gateway, signed_event_for


def twin(app: Flask, client: FlaskClient) -> FlaskClient:
    """A second client with the same cookies: the same browser, another connection."""
    other = app.test_client()
    for (domain, path, key), cookie in client._cookies.items():
        other.set_cookie(key, cookie.value, domain=domain, path=path)
    return other


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait(timeout=30)
        try:
            results[index] = call()
        except Exception as error:  # reported to the test
            results[index] = error

    db.session.commit()  # end the test's read: the threads' writes must be seen afterwards
    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    db.session.commit()
    return results


@pytest.mark.story("US-20")
def test_submitting_the_pay_form_twice_places_one_order(buyer: FlaskClient, mug: Any) -> None:
    token = go_to_pay(buyer)

    first = pay(buyer, token)
    second = pay(buyer, token)  # back button and submit again

    [order] = orders()
    assert [path_of(first), path_of(second)] == [f"/checkout/complete/{order.number}"] * 2
    assert (order.status.value, stock_of(mug.id), count(Checkout)) == ("paid", 3, 1)
    assert [p.status.value for p in payment_queries.payments_for(order.number)] == ["succeeded"]


@pytest.mark.story("US-20")
def test_two_concurrent_submissions_of_the_pay_form_place_one_order(
    app: Flask, buyer: FlaskClient, mug: Any
) -> None:
    token = go_to_pay(buyer)
    clients = [buyer, twin(app, buyer), twin(app, buyer)]

    answers = at_once(*[lambda client=client: pay(client, token) for client in clients])

    [order] = orders()
    assert [(a.status_code, path_of(a)) for a in answers] == [
        (303, f"/checkout/complete/{order.number}")
    ] * 3
    assert (order.status.value, stock_of(mug.id)) == ("paid", 3)
    assert inventory_queries.ledger_discrepancies() == []


@pytest.mark.story("US-36")
def test_a_webhook_delivered_five_times_at_once_changes_the_order_once(
    app: Flask, buyer: FlaskClient, mailbox: Any
) -> None:
    pay(buyer, go_to_pay(buyer), CARD_PROCESSING)
    [order] = orders()
    sandbox.settle_due_charges(clock.utcnow() + timedelta(seconds=60))
    [payment] = payment_queries.payments_for(order.number)
    body, headers = signed_event_for(payment.id)

    answers = at_once(
        *[
            lambda: app.test_client().post("/webhooks/test", data=body, headers=headers)
            for _ in range(5)
        ]
    )

    assert sorted((a.status_code, a.get_data(as_text=True)) for a in answers) == [
        (200, "duplicate"),
        (200, "duplicate"),
        (200, "duplicate"),
        (200, "duplicate"),
        (200, "succeeded"),
    ]
    events = order_queries.order_events(order_queries.get_order(order.number))
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, "pending_payment"),
        ("pending_payment", "paid"),
    ]
    assert [message["Subject"] for message in mailbox] == [f"Order {order.number} confirmed"]


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b"{}", {"Test-Gateway-Signature": "t=1,v1=00"}, 400, "webhook_signature_invalid"),
        (b"{}", {}, 400, "webhook_signature_invalid"),
    ],
)
def test_a_bad_webhook_answers_400_problem_json(
    client: FlaskClient, body: bytes, headers: dict, status: int, code: str
) -> None:
    response = client.post("/webhooks/test", data=body, headers=headers)

    assert (response.status_code, response.mimetype) == (status, "application/problem+json")
    assert response.json["code"] == code


def test_webhooks_of_unknown_gateways_and_unknown_payments(buyer: FlaskClient) -> None:
    event = {
        "id": "evt_1",
        "type": "payment.succeeded",
        "created": int(clock.utcnow().timestamp()),
        "data": {"payment": {"id": "ch_missing", "status": "succeeded"}},
    }
    raw, headers = sandbox_gateway().signed_webhook(json.dumps(event))

    unknown_gateway = buyer.post("/webhooks/paypal", data=raw, headers=headers)
    unknown_payment = buyer.post("/webhooks/test", data=raw, headers=headers)
    get = buyer.get("/webhooks/test")

    assert (unknown_gateway.status_code, unknown_gateway.json["code"]) == (404, "gateway_not_found")
    assert (unknown_payment.status_code, unknown_payment.json["code"]) == (409, "payment_not_found")
    assert get.status_code == 405


@pytest.mark.parametrize("failure", [RuntimeError("boom"), PaymentInProgress()])
def test_a_failure_after_the_order_is_placed_rolls_everything_back(
    buyer: FlaskClient, mug: Any, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    # given a guest at the pay step (their reservation is the only row so far)
    token = go_to_pay(buyer)
    before = counts()

    # when the payment record fails inside the placing transaction, after the order
    def fail(**_arguments: Any) -> None:
        raise failure

    monkeypatch.setattr(placing.payments, "create_payment", fail)
    response = pay(buyer, token)

    # then nothing is half-written: no order, no stock movement, no payment
    assert response.status_code == (500 if isinstance(failure, RuntimeError) else 409)
    assert counts() == before == {"orders": 0, "payments": 0, "movements": 0, "reservations": 1}
    assert stock_of(mug.id) == 5
    # and the same form works once the fault is gone
    monkeypatch.undo()
    assert path_of(pay(buyer, token)) == f"/checkout/complete/{orders()[0].number}"


def test_malformed_card_details_are_refused_beside_the_fields_and_place_nothing(
    buyer: FlaskClient,
) -> None:
    token = go_to_pay(buyer)

    response = buyer.post(
        "/checkout/pay",
        data={
            "payment_method": "test",
            "submit_token": token,
            "card_number": "4242 4242 4242 4241",
            "card_expiry": "13/20",
            "card_cvc": "1",
        },
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The card number is not valid. Please check it." in page
    assert "The expiry month must be between 01 and 12." in page
    assert "The security code has 3 or 4 digits." in page
    assert "4242 4242 4242 4241" not in page
    assert counts()["orders"] == 0


def test_a_payment_method_that_is_not_enabled_is_refused(buyer: FlaskClient) -> None:
    response = pay(buyer, go_to_pay(buyer), None, gateway="stripe")

    assert response.status_code == 422
    assert "The payment method &#39;stripe&#39; is not available." in response.get_data(
        as_text=True
    )
    assert counts()["orders"] == 0


def stored_text() -> str:
    parts = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            parts.extend(str(value) for value in row)
    return "\n".join(parts)


@pytest.mark.story("US-21")
def test_no_card_number_is_stored_or_logged_after_every_card_flow(
    app: Flask, mug: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cards = [CARD_SUCCEEDS, CARD_DECLINED, CARD_INSUFFICIENT_FUNDS, CARD_3DS, CARD_PROCESSING]
    for card in cards:
        client = app.test_client()
        client.post("/cart/lines", data={"variant_id": mug.id, "quantity": 1})
        response = pay(client, go_to_pay(client), card)
        if card == CARD_3DS:
            challenge = path_of(response)
            back = client.post(challenge, data={"decision": "approve"})
            client.get(back.headers["Location"])
        if card == CARD_PROCESSING:
            sandbox.settle_due_charges(clock.utcnow() + timedelta(seconds=60))
            payment = payment_queries.payments_for(orders()[-1].number)[0]
            body, headers = signed_event_for(payment.id)
            client.post("/webhooks/test", data=body, headers=headers)

    # the declined cards left no order behind
    assert [o.status.value for o in orders()] == ["paid", "paid", "paid"]
    stored = stored_text()
    assert "4242" in stored  # the search sees the data: last four digits are kept
    for card in cards:
        for form in (card, card.replace(" ", ""), card.replace(" ", "-")):
            assert form not in stored
            assert form not in caplog.text


def test_the_job_cancels_an_order_left_at_3d_secure_and_abandons_idle_checkouts(
    app: Flask, buyer: FlaskClient, mug: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an order whose customer never came back from 3-D Secure, and an idle checkout
    pay(buyer, go_to_pay(buyer), CARD_3DS)
    idle = app.test_client()
    idle.post("/cart/lines", data={"variant_id": mug.id, "quantity": 1})
    idle.post("/checkout", data={"email": "idle@example.com"})
    assert stock_of(mug.id) == 3

    # when the job runs a day later
    later = clock.utcnow() + timedelta(hours=25)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    result = services.expire_checkouts()

    # then the order is cancelled, its payment voided, its stock back; both checkouts abandoned
    assert result == (1, 1)
    [order] = orders()
    assert order.status.value == "cancelled"
    assert [p.status.value for p in payment_queries.payments_for(order.number)] == ["cancelled"]
    assert stock_of(mug.id) == 5
    statuses = db.session.scalars(select(Checkout.status).order_by(Checkout.id)).all()
    assert statuses == [CheckoutStatus.ABANDONED, CheckoutStatus.ABANDONED]
    assert the_checkout().submit_token_hash is None
