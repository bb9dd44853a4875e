"""Stripe's webhooks at ``POST /webhooks/stripe``: verified on the raw body with the endpoint's
signing secret (Stripe's own scheme, 300 s tolerance), recorded by event id, applied once,
whatever the order and however often they arrive. The whole checkout runs with the stripe
gateway against the local stand-in for Stripe's API."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from funnel.accounts.models import Role
from funnel.checkout import services
from funnel.core import clock
from funnel.core.money import Money
from funnel.extensions import db
from funnel.orders.models import Order, OrderEvent
from funnel.payments.models import Payment, PaymentEvent, PaymentStatus, WebhookEvent
from tests.checkout.helpers import go_to_pay, pay
from tests.factories.accounts import UserFactory
from tests.support.mailbox import Mailbox
from tests.support.stripe_standin import StripeStandIn, signed, stripe_enabled

pytestmark = pytest.mark.story("US-68")


@pytest.fixture
def standin(app: Flask) -> Iterator[StripeStandIn]:
    with stripe_enabled(app) as running:
        yield running


def count(model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)))


def the_payment() -> Payment:
    db.session.commit()  # see what other requests committed
    return db.session.scalars(select(Payment).order_by(Payment.id.desc())).first()


def order_states() -> list[str]:
    """Each order's status, oldest first."""
    db.session.commit()
    return [status.value for status in db.session.scalars(select(Order.status).order_by(Order.id))]


def status_changes() -> list[tuple[str | None, str]]:
    rows = db.session.execute(
        select(PaymentEvent.from_status, PaymentEvent.to_status).order_by(PaymentEvent.id)
    )
    return [tuple(row) for row in rows]


def paid_at_stripe(buyer: FlaskClient, standin: StripeStandIn, outcome: str = "succeeded") -> str:
    """The guest pays with stripe: the shop creates the intent, then the customer's browser
    confirms it at Stripe (the stand-in). Returns the intent's id."""
    token = go_to_pay(buyer)
    response = pay(buyer, token, card=None, gateway="stripe")
    assert response.status_code == 303
    payment = the_payment()
    assert (payment.gateway, payment.status) == ("stripe", PaymentStatus.REQUIRES_ACTION)
    standin.confirm(payment.gateway_payment_id, outcome)
    return payment.gateway_payment_id


def deliver(client: FlaskClient, body: str, headers: dict[str, str] | None = None) -> Any:
    return client.post("/webhooks/stripe", data=body.encode(), headers=headers or signed(body))


def test_a_signed_success_pays_the_order(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn
) -> None:
    # given a customer who paid at Stripe, and the order awaiting its payment
    intent_id = paid_at_stripe(buyer, standin)
    assert order_states() == ["pending_payment"]

    # when Stripe's signed event arrives
    response = deliver(client, standin.event("payment_intent.succeeded", intent_id))

    # then the payment succeeded by the gateway, and its order is placed and paid
    assert (response.status_code, response.get_data(as_text=True)) == (200, "succeeded")
    payment = the_payment()
    assert payment.status == PaymentStatus.SUCCEEDED
    [order] = db.session.scalars(select(Order)).all()
    assert (order.status.value, payment.payable_reference) == ("paid", order.number)
    assert count(WebhookEvent) == 1
    assert status_changes()[-2:] == [
        ("requires_action", "requires_action"),  # the attempt's payment became the order's
        ("requires_action", "succeeded"),
    ]


def test_a_signed_failure_fails_the_payment_and_places_no_order(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn
) -> None:
    intent_id = paid_at_stripe(buyer, standin, "insufficient_funds")

    response = deliver(client, standin.event("payment_intent.payment_failed", intent_id))

    assert (response.status_code, response.get_data(as_text=True)) == (200, "failed")
    payment = the_payment()
    assert (payment.status, payment.failure_code, payment.failure_message) == (
        PaymentStatus.FAILED,
        "insufficient_funds",
        "Your card has insufficient funds.",
    )
    assert order_states() == ["cancelled"]


@pytest.mark.parametrize("case", ["tampered", "other secret", "stale", "missing", "garbage"])
def test_a_bad_signature_answers_400_and_changes_nothing(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn, case: str
) -> None:
    intent_id = paid_at_stripe(buyer, standin)
    body = standin.event("payment_intent.succeeded", intent_id)
    assert '"livemode": false' in body
    headers = {
        "tampered": signed(body.replace('"livemode": false', '"livemode": true')),
        "other secret": signed(body, secret="whsec_someone_else"),
        "stale": signed(body, timestamp=int(time.time()) - 301),
        "missing": {"Content-Type": "application/json"},
        "garbage": {"Content-Type": "application/json", "Stripe-Signature": "t=x,v1"},
    }[case]

    response = deliver(client, body, headers)

    assert (response.status_code, response.mimetype) == (400, "application/problem+json")
    assert response.json["code"] == "webhook_signature_invalid"
    assert the_payment().status == PaymentStatus.REQUIRES_ACTION
    assert (count(WebhookEvent), order_states()) == (0, ["pending_payment"])


def test_a_signature_just_inside_the_tolerance_is_accepted(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn
) -> None:
    intent_id = paid_at_stripe(buyer, standin)
    body = standin.event("payment_intent.succeeded", intent_id)

    response = deliver(client, body, signed(body, timestamp=int(time.time()) - 290))

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("not json", "webhook_payload_invalid"),
        (
            json.dumps({"id": "evt_1", "type": "customer.created", "data": {}}),
            "webhook_payload_invalid",
        ),
        (
            json.dumps({"id": "evt_1", "type": "payment_intent.succeeded"}),
            "webhook_payload_invalid",
        ),
    ],
)
def test_a_signed_body_that_is_not_an_event_the_shop_takes_is_refused(
    app: Flask, client: FlaskClient, standin: StripeStandIn, body: str, code: str
) -> None:
    response = deliver(client, body)

    assert (response.status_code, response.json["code"]) == (400, code)
    assert count(WebhookEvent) == 0


def test_a_replayed_event_changes_the_order_once(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn
) -> None:
    intent_id = paid_at_stripe(buyer, standin)
    body = standin.event("payment_intent.succeeded", intent_id)
    changes_before = len(status_changes())

    answers = [deliver(client, body) for _ in range(3)]

    assert [(a.status_code, a.get_data(as_text=True)) for a in answers] == [
        (200, "succeeded"),
        (200, "duplicate"),
        (200, "duplicate"),
    ]
    assert (count(WebhookEvent), count(Order)) == (1, 1)
    assert len(status_changes()) == changes_before + 1


def test_a_failure_arriving_after_the_success_changes_nothing(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn
) -> None:
    # given a first attempt declined, then the card that succeeded; Stripe sends the
    # success first and the older failure last
    intent_id = paid_at_stripe(buyer, standin, "declined")
    failed = standin.event("payment_intent.payment_failed", intent_id)
    standin.confirm(intent_id, "succeeded")
    succeeded = standin.event("payment_intent.succeeded", intent_id)

    answers = [deliver(client, succeeded), deliver(client, failed)]

    # then both are recorded; the payment and its order stay paid
    assert [(a.status_code, a.get_data(as_text=True)) for a in answers] == [
        (200, "succeeded"),
        (200, "succeeded"),
    ]
    assert the_payment().status == PaymentStatus.SUCCEEDED
    assert order_states() == ["paid"]
    assert count(WebhookEvent) == 2


def test_refund_and_dispute_events_are_recorded_and_change_no_status(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn
) -> None:
    intent_id = paid_at_stripe(buyer, standin)
    refunded = standin.event("charge.refunded", intent_id)  # arrives before the success
    deliver(client, standin.event("payment_intent.succeeded", intent_id))

    answers = [
        deliver(client, refunded),
        deliver(client, standin.event("charge.dispute.created", intent_id)),
    ]

    assert [(a.status_code, a.get_data(as_text=True)) for a in answers] == [
        (200, "succeeded"),
        (200, "succeeded"),
    ]
    types = db.session.scalars(select(WebhookEvent.type).order_by(WebhookEvent.id)).all()
    assert types == ["payment_intent.succeeded", "charge.refunded", "charge.dispute.created"]
    assert status_changes()[-1] == ("requires_action", "succeeded")


def test_a_dispute_is_noted_on_the_order_and_the_staff_who_may_refund_are_emailed_once(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn, mailbox: Mailbox
) -> None:
    # given an admin, a staff member in the refunds group, one in the catalogue group only, a
    # disabled admin and a customer
    UserFactory(email="admin@example.com", role=Role.ADMIN, is_email_verified=True)
    UserFactory(email="refunds@example.com", role=Role.STAFF, permission_groups="refunds")
    UserFactory(email="catalogue@example.com", role=Role.STAFF, permission_groups="catalogue")
    UserFactory(email="gone@example.com", role=Role.ADMIN, disabled_at=clock.utcnow())
    UserFactory(email="shopper@example.com")
    # and an order paid with Stripe
    intent_id = paid_at_stripe(buyer, standin)
    deliver(client, standin.event("payment_intent.succeeded", intent_id))
    mailbox.clear()
    dispute = standin.event("charge.dispute.created", intent_id)

    # when Stripe reports that the card holder's bank disputes it, twice
    answers = [deliver(client, dispute), deliver(client, dispute)]

    # then the order keeps its status, its history notes the dispute once
    assert [a.status_code for a in answers] == [200, 200]
    [order] = db.session.scalars(select(Order)).all()
    db.session.refresh(order)
    assert order_states() == ["paid"]
    notes = [
        (event.from_status, event.to_status, event.note)
        for event in db.session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
        )
    ]
    total = Money(order.total_minor, order.currency).format()
    assert notes[-1][:2] == ("paid", "paid")
    assert notes[-1][2].startswith(
        f"Payment disputed by the card holder's bank (fraudulent): {total} held by the "
        "gateway; evidence due by 2027-01-15 [dp_"
    )
    assert [note for _, _, note in notes].count(notes[-1][2]) == 1
    # and the admin and the refunds staff are emailed, once each, with the staff link
    assert sorted(message["To"] for message in mailbox) == [
        "admin@example.com",
        "refunds@example.com",
    ]
    message = mailbox.to("refunds@example.com")[0]
    assert message["Subject"] == (
        f"Order {order.number}: the card holder's bank disputes the payment"
    )
    body = mailbox.body(message)
    assert f"Amount held by the payment gateway: {total}" in body
    assert "by 2027-01-15" in body
    assert f"/staff/orders/{order.number}" in body


def test_an_event_for_no_payment_of_the_shop_asks_stripe_to_retry(
    app: Flask, client: FlaskClient, standin: StripeStandIn
) -> None:
    intent_id = "pi_elsewhere"
    body = json.dumps(
        {
            "id": "evt_elsewhere",
            "type": "payment_intent.succeeded",
            "created": int(time.time()),
            "data": {"object": {"id": intent_id, "status": "succeeded", "metadata": {}}},
        }
    )

    response = deliver(client, body)

    assert (response.status_code, response.json["code"]) == (409, "payment_not_found")
    assert count(WebhookEvent) == 0


def test_ten_deliveries_five_at_once_change_the_payment_once(
    app: Flask, buyer: FlaskClient, standin: StripeStandIn
) -> None:
    intent_id = paid_at_stripe(buyer, standin)
    body = standin.event("payment_intent.succeeded", intent_id)
    raw = body.encode()
    changes_before = len(status_changes())

    def delivery() -> Any:
        return services.receive_webhook("stripe", raw, signed(body))

    results = in_threads(app, [delivery] * 5) + in_threads(app, [delivery] * 5)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert [r is None for r in results].count(True) == 9
    assert (count(WebhookEvent), count(Order)) == (1, 1)
    assert len(status_changes()) == changes_before + 1
    assert the_payment().status == PaymentStatus.SUCCEEDED


def in_threads(app: Flask, callables: list[Callable[[], Any]]) -> list[Any]:
    """Run each callable in its own thread and app context, released together."""
    db.session.commit()
    barrier = threading.Barrier(len(callables))
    results: list[Any] = [None] * len(callables)

    def worker(index: int, function: Callable[[], Any]) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[index] = function()
            except Exception as error:  # reported to the test
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=item) for item in enumerate(callables)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    db.session.commit()
    return results
