"""US-70: every charge the reconciliation finds not matched is kept as a row, once per
(gateway, charge, kind); what it settled itself is kept resolved; a refunded charge's customer
is told by email, once; the gauge counts the findings still open."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from funnel.checkout import services
from funnel.checkout.models import FindingKind, ReconciliationFinding
from funnel.checkout.services.findings import FoundCharge, record_finding
from funnel.core.database import transaction
from funnel.core.money import Money
from funnel.extensions import db
from funnel.orders.models import Order, OrderStatus
from funnel.payments import services as payments
from funnel.payments.gateways import get_gateway
from funnel.payments.gateways.base import PaymentRequest
from funnel.payments.models import Payment, PaymentStatus
from tests.checkout.helpers import go_to_pay, pay
from tests.factories.orders import place
from tests.support.mailbox import Mailbox
from tests.support.stripe_standin import StripeStandIn, signed, stripe_enabled

pytestmark = pytest.mark.story("US-70")

REFUND_SUBJECT = "your payment is refunded"


@pytest.fixture
def standin(app: Flask) -> Iterator[StripeStandIn]:
    with stripe_enabled(app) as running:
        yield running


def stored_findings() -> list[tuple[Any, ...]]:
    db.session.commit()  # see what the services committed
    rows = db.session.scalars(select(ReconciliationFinding).order_by(ReconciliationFinding.id))
    return [
        (
            row.kind.value,
            row.gateway,
            row.gateway_charge_id,
            row.amount_minor,
            row.currency,
            row.reference,
            row.detail,
            row.is_resolved,
            row.resolved_by_id,
            row.action_note,
        )
        for row in rows
    ]


def open_gauge() -> float | None:
    return REGISTRY.get_sample_value("funnel_unreconciled_charges")


def the_payment() -> Payment:
    db.session.commit()
    return db.session.scalars(select(Payment).order_by(Payment.id.desc())).first()


def the_order() -> Order:
    db.session.commit()
    return db.session.scalars(select(Order)).one()


def refund_emails(mailbox: Mailbox) -> list[Any]:
    return [message for message in mailbox if REFUND_SUBJECT in message["Subject"]]


def paid_at_stripe(buyer: FlaskClient, standin: StripeStandIn, outcome: str = "succeeded") -> str:
    """The guest pays with stripe and confirms at Stripe; no webhook arrives."""
    response = pay(buyer, go_to_pay(buyer), card=None, gateway="stripe")
    assert response.status_code == 303
    intent_id = the_payment().gateway_payment_id
    standin.confirm(intent_id, outcome)
    return intent_id


def foreign_charge(standin: StripeStandIn, key: str = "dashboard-charge-1") -> str:
    outcome = get_gateway("stripe").create_payment(
        PaymentRequest(
            amount=Money(2500, "EUR"), idempotency_key=key, description="", return_url=""
        )
    )
    standin.confirm(outcome.gateway_payment_id)
    return outcome.gateway_payment_id


def test_a_foreign_charge_is_one_open_finding_however_many_runs_find_it(
    app: Flask, standin: StripeStandIn
) -> None:
    # given a charge at Stripe that names no payment of ours
    charge_id = foreign_charge(standin)

    # when reconciliation runs twice
    services.reconcile_charges()
    services.reconcile_charges()

    # then one open row is kept, and the gauge counts it once
    assert stored_findings() == [
        (
            "foreign",
            "stripe",
            charge_id,
            2500,
            "EUR",
            None,
            "no payment of ours: not refunded, look at it",
            False,
            None,
            None,
        )
    ]
    assert open_gauge() == 1.0


def test_a_charge_paying_its_order_is_kept_resolved_by_the_reconciliation(
    buyer: FlaskClient, standin: StripeStandIn
) -> None:
    # given a customer charged at Stripe whose webhook and return were both lost
    intent_id = paid_at_stripe(buyer, standin)
    payment = the_payment()

    # when reconciliation runs twice
    services.reconcile_charges()
    services.reconcile_charges()

    # then one row says what it did, resolved by the run itself; nothing is left open
    number = the_order().number
    assert stored_findings() == [
        (
            "paid",
            "stripe",
            intent_id,
            payment.amount_minor,
            payment.currency,
            number,
            "the order is paid",
            True,
            None,
            "Done by the reconciliation: the order is paid",
        )
    ]
    assert open_gauge() == 0.0


def test_a_refunded_charge_is_kept_once_and_its_customer_told_once(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn, mailbox: Mailbox
) -> None:
    # given a declined card (payment failed, order cancelled), then a charge that went through
    intent_id = paid_at_stripe(buyer, standin, "insufficient_funds")
    failed = standin.event("payment_intent.payment_failed", intent_id)
    assert client.post("/webhooks/stripe", data=failed, headers=signed(failed)).status_code == 200
    standin.confirm(intent_id)
    payment = the_payment()
    number = the_order().number
    mailbox.clear()

    # when reconciliation runs twice
    services.reconcile_charges()
    services.reconcile_charges()

    # then one resolved row records the refund
    assert stored_findings() == [
        (
            "refunded",
            "stripe",
            intent_id,
            payment.amount_minor,
            payment.currency,
            number,
            "the payment was failed",
            True,
            None,
            "Done by the reconciliation: the payment was failed",
        )
    ]
    # and the customer got one email saying the charge was refunded, and why
    [message] = refund_emails(mailbox)
    assert (message["To"], message["Subject"]) == (
        "guest@example.com",
        f"Order {number}: your payment is refunded",
    )
    body = mailbox.body(message)
    amount = payment.amount.format()
    assert f"We took a payment of {amount} for your order {number}" in body
    assert "the payment came through after it had been recorded as failed" in body
    assert f"So we have refunded the full {amount} to the way you paid." in body
    assert f"for your order <strong>{number}</strong>" in mailbox.html(message)
    assert open_gauge() == 0.0


def test_a_charge_refunded_for_an_order_cancelled_meanwhile_tells_its_customer_why(
    buyer: FlaskClient, standin: StripeStandIn, mailbox: Mailbox
) -> None:
    # given a charge at Stripe, no webhook, and the order cancelled meanwhile in our books
    intent_id = paid_at_stripe(buyer, standin)
    with transaction():
        db.session.execute(
            update(Order).where(Order.id == the_order().id).values(status=OrderStatus.CANCELLED)
        )
    mailbox.clear()

    # when reconciliation runs twice
    services.reconcile_charges()
    services.reconcile_charges()

    # then the refund is one row and one email
    assert [(row[0], row[2], row[6]) for row in stored_findings()] == [
        ("refunded", intent_id, "the order could not take it any more")
    ]
    [message] = refund_emails(mailbox)
    assert message["To"] == "guest@example.com"
    assert "the order had been cancelled before the payment reached us." in mailbox.body(message)
    assert the_payment().status == PaymentStatus.REFUNDED


def test_a_later_run_that_settles_a_charge_leaves_its_earlier_finding_open(
    buyer: FlaskClient, standin: StripeStandIn
) -> None:
    # given a charge an earlier run could not settle (the gateway failed mid-way, say)
    intent_id = paid_at_stripe(buyer, standin)
    payment = the_payment()
    assert record_finding(
        FoundCharge(
            "stripe",
            intent_id,
            payment.amount,
            FindingKind.UNRESOLVED,
            payment.payable_reference,
            "The payment service is not available right now.",
        )
    )

    # when reconciliation now settles it
    services.reconcile_charges()

    # then the new finding is added, and the earlier one stays open for staff
    assert [(row[0], row[7]) for row in stored_findings()] == [
        ("unresolved", False),
        ("paid", True),
    ]
    assert open_gauge() == 1.0


def test_recording_the_same_finding_again_stores_nothing(app: Flask) -> None:
    # given a finding recorded once
    found = FoundCharge(
        "stripe", "pi_1", Money(990, "EUR"), FindingKind.FOREIGN, None, "no payment of ours"
    )
    first = record_finding(found)

    # when it is recorded again, even with another detail
    second = record_finding(FoundCharge(**{**found.__dict__, "detail": "changed"}))
    # and the same charge with another kind
    third = record_finding(FoundCharge(**{**found.__dict__, "kind": FindingKind.UNRESOLVED}))

    # then the second stores nothing; another kind is another row
    assert (first, second, third) == (True, False, True)
    assert [(row[0], row[2], row[6]) for row in stored_findings()] == [
        ("foreign", "pi_1", "no payment of ours"),
        ("unresolved", "pi_1", "no payment of ours"),
    ]


def test_a_succeeded_payment_the_gateway_does_not_list_is_one_open_finding(
    app: Flask, standin: StripeStandIn, mailbox: Mailbox
) -> None:
    # given a payment of ours recorded succeeded (in error) whose intent Stripe never charged
    payments.start_payment(
        payable_reference="invoice-2026-18",
        amount=Money(4500, "EUR"),
        gateway="stripe",
        idempotency_key="invoice-2026-18-key",
    )
    payment = the_payment()
    with transaction():
        db.session.execute(
            update(Payment)
            .where(Payment.id == payment.id)
            .values(status=PaymentStatus.SUCCEEDED, received_minor=4500)
        )

    # when reconciliation runs twice
    first = services.reconcile_charges()
    services.reconcile_charges()

    # then it is reported once, open for staff, and nothing is changed or refunded
    assert [(f.finding.value, f.charge.gateway_payment_id) for f in first.findings] == [
        ("missing_charge", payment.gateway_payment_id)
    ]
    assert stored_findings() == [
        (
            "missing_charge",
            "stripe",
            payment.gateway_payment_id,
            4500,
            "EUR",
            "invoice-2026-18",
            "our payment succeeded, but the gateway lists no such charge: nothing changed, "
            "look at it",
            False,
            None,
            None,
        )
    ]
    assert the_payment().status == PaymentStatus.SUCCEEDED
    assert (standin.posts("/v1/refunds"), open_gauge()) == ([], 1.0)


def test_five_runs_recording_one_refund_at_once_keep_one_row_and_send_one_email(
    app: Flask, mailbox: Mailbox
) -> None:
    # given an order whose charge five overlapping runs refunded
    order = place()
    number = order.number
    db.session.commit()
    found = FoundCharge(
        "stripe",
        "pi_raced",
        Money(2800, "USD"),
        FindingKind.REFUNDED,
        number,
        "the order could not take it any more",
        "the order had been cancelled before the payment reached us.",
    )
    mailbox.clear()

    # when the five record it at the same moment
    barrier = threading.Barrier(5)
    results: list[Any] = [None] * 5

    def worker(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[index] = record_finding(found)
            except Exception as error:  # reported below
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then one of them stored it and told the customer; the others stored and sent nothing
    assert sorted(results) == [False, False, False, False, True]
    assert [(row[0], row[2], row[5]) for row in stored_findings()] == [
        ("refunded", "pi_raced", number)
    ]
    assert [(m["To"], m["Subject"]) for m in refund_emails(mailbox)] == [
        ("buyer@example.com", f"Order {number}: your payment is refunded")
    ]


def test_a_refund_made_at_the_gateway_that_our_books_miss_is_one_open_finding(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn
) -> None:
    # given an order paid through Stripe (its webhook arrived), then €5.00 of it refunded in
    # Stripe's dashboard, which the shop never recorded
    intent_id = paid_at_stripe(buyer, standin)
    succeeded = standin.event("payment_intent.succeeded", intent_id)
    delivered = client.post("/webhooks/stripe", data=succeeded, headers=signed(succeeded))
    assert delivered.status_code == 200
    assert the_order().status == OrderStatus.PAID
    payment = the_payment()
    currency = payment.currency
    refund = get_gateway("stripe").refund(intent_id, Money(500, currency), "dashboard-refund-1")
    assert refund.is_successful

    # when reconciliation runs twice
    first = services.reconcile_charges()
    services.reconcile_charges()

    # then it is reported once, open for staff; the order and payment are left as they were
    expected_detail = (
        f"the gateway refunded {Money(500, currency).format()}, our books "
        f"{Money(0, currency).format()}: nothing changed, look at it"
    )
    assert [(f.finding.value, f.detail) for f in first.findings] == [
        ("missing_refund", expected_detail)
    ]
    assert [(row[0], row[2], row[5], row[6], row[7]) for row in stored_findings()] == [
        ("missing_refund", intent_id, the_order().number, expected_detail, False)
    ]
    assert (the_order().status, the_payment().status) == (OrderStatus.PAID, PaymentStatus.SUCCEEDED)
    assert open_gauge() == 1.0
