"""Reconciliation: every charge Stripe took ends in a paid order or a refund (US-69).

The whole checkout runs with the stripe gateway against the local stand-in for Stripe's API;
then the webhook that would have settled the payment is lost, and the reconciliation (the
service behind the hourly job and ``flask --app funnel payments reconcile``) finds the charge
in Stripe's list and settles it, once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from sqlalchemy import func, select, update

from funnel.checkout import services
from funnel.core.database import transaction
from funnel.core.money import Money
from funnel.extensions import db
from funnel.orders.models import Order, OrderEvent, OrderStatus
from funnel.payments import services as payments
from funnel.payments.gateways import get_gateway
from funnel.payments.gateways.base import PaymentRequest
from funnel.payments.gateways.test import sandbox
from funnel.payments.models import (
    Payment,
    PaymentEvent,
    PaymentStatus,
    PaymentTransaction,
    TransactionKind,
)
from funnel.payments.services import state
from tests.checkout.helpers import CARD_SUCCEEDS, go_to_pay, pay, stock_of
from tests.support.stripe_standin import StripeStandIn, signed, stripe_enabled

pytestmark = pytest.mark.story("US-69")

SINCE = r"\d{4}-\d\d-\d\d \d\d:\d\d"  # 48 hours before the run


@pytest.fixture
def standin(app: Flask) -> Iterator[StripeStandIn]:
    with stripe_enabled(app) as running:
        yield running


class WorkerKilled(BaseException):
    """The process dies here: nothing after it runs (not an Exception: no handler sees it)."""


def killed(*_arguments: Any, **_keywords: Any) -> None:
    raise WorkerKilled()


def count(model: Any) -> int:
    db.session.commit()  # see what the services committed
    return int(db.session.scalar(select(func.count()).select_from(model)))


def the_payment() -> Payment:
    db.session.commit()
    return db.session.scalars(select(Payment).order_by(Payment.id.desc())).first()


def the_order() -> Order:
    db.session.commit()
    return db.session.scalars(select(Order)).one()


def payment_changes(payment_id: int) -> list[tuple[str | None, str]]:
    rows = db.session.execute(
        select(PaymentEvent.from_status, PaymentEvent.to_status)
        .where(PaymentEvent.payment_id == payment_id)
        .order_by(PaymentEvent.id)
    )
    return [tuple(row) for row in rows]


def unreconciled() -> float | None:
    return REGISTRY.get_sample_value("funnel_unreconciled_charges")


def findings(report: services.Reconciliation) -> list[tuple[str, str, str | None]]:
    return [(f.finding.value, f.charge.gateway_payment_id, f.reference) for f in report.findings]


def paid_at_stripe(buyer: FlaskClient, standin: StripeStandIn, outcome: str = "succeeded") -> str:
    """The guest pays with stripe: the shop creates the intent and places the order awaiting
    it, then the customer's browser confirms it at Stripe. No webhook arrives."""
    token = go_to_pay(buyer)
    response = pay(buyer, token, card=None, gateway="stripe")
    assert response.status_code == 303
    payment = the_payment()
    assert (payment.gateway, payment.status) == ("stripe", PaymentStatus.REQUIRES_ACTION)
    standin.confirm(payment.gateway_payment_id, outcome)
    return payment.gateway_payment_id


def test_a_charge_whose_success_never_reached_the_shop_pays_its_order_once(
    buyer: FlaskClient, standin: StripeStandIn, mug: Any
) -> None:
    # given a customer charged at Stripe, whose webhook and return were both lost
    intent_id = paid_at_stripe(buyer, standin)
    payment = the_payment()
    assert the_order().status.value == "pending_payment"
    events_before = count(PaymentEvent)

    # when reconciliation runs, twice
    first = services.reconcile_charges()
    second = services.reconcile_charges()

    # then the first run records the charge and pays the order; the second changes nothing
    order = the_order()
    assert findings(first) == [("paid", intent_id, order.number)]
    assert findings(second) == [("matched", intent_id, order.number)]
    assert (order.status.value, the_payment().status) == ("paid", PaymentStatus.SUCCEEDED)
    assert count(PaymentEvent) == events_before + 1
    assert payment_changes(payment.id)[-1] == ("requires_action", "succeeded")
    paid_events = db.session.scalars(
        select(OrderEvent.to_status).where(OrderEvent.order_id == order.id)
    ).all()
    assert [str(status) for status in paid_events].count("paid") == 1
    assert (standin.refunds, unreconciled()) == ({}, 0.0)
    assert stock_of(mug.id) == 3


def test_a_charge_for_a_cancelled_order_is_refunded_once(
    buyer: FlaskClient, client: FlaskClient, standin: StripeStandIn, mug: Any
) -> None:
    # given a declined card: the payment failed, the order was cancelled and its stock returned
    intent_id = paid_at_stripe(buyer, standin, "insufficient_funds")
    failed = standin.event("payment_intent.payment_failed", intent_id)
    assert client.post("/webhooks/stripe", data=failed, headers=signed(failed)).status_code == 200
    assert (the_payment().status, the_order().status.value) == (PaymentStatus.FAILED, "cancelled")
    # and then the customer tried another card in Stripe's own form, which took the money
    standin.confirm(intent_id)
    payment = the_payment()

    # when reconciliation runs, twice
    first = services.reconcile_charges()
    second = services.reconcile_charges()

    # then the charge is refunded in full at Stripe, once, under a key named for the charge
    assert findings(first) == [("refunded", intent_id, the_order().number)]
    assert findings(second) == [("matched", intent_id, None)]
    [refund] = standin.refunds.values()
    assert (refund["payment_intent"], refund["amount"]) == (intent_id, payment.amount_minor)
    assert [r.idempotency_key for r in standin.posts("/v1/refunds")] == [
        f"charge:{intent_id}:refund"
    ]
    refunds = db.session.scalars(
        select(PaymentTransaction).where(PaymentTransaction.kind == TransactionKind.REFUND)
    ).all()
    assert [(r.payment_id, r.amount_minor, r.idempotency_key) for r in refunds] == [
        (payment.id, payment.amount_minor, f"charge:{intent_id}:refund")
    ]
    # and the order stays cancelled, the payment failed in our books, the stock on the shelf
    assert (the_payment().status, the_order().status.value) == (PaymentStatus.FAILED, "cancelled")
    assert stock_of(mug.id) == 5
    assert unreconciled() == 0.0


def test_a_charge_for_an_order_cancelled_meanwhile_is_refunded_once(
    buyer: FlaskClient, standin: StripeStandIn
) -> None:
    # given a customer charged at Stripe, no webhook, and the order cancelled meanwhile by a
    # path that never reached Stripe (the shop's books only: a race with the charge)
    intent_id = paid_at_stripe(buyer, standin)
    payment = the_payment()
    with transaction():
        db.session.execute(
            update(Order).where(Order.id == the_order().id).values(status=OrderStatus.CANCELLED)
        )

    # when reconciliation runs, twice
    first = services.reconcile_charges()
    second = services.reconcile_charges()

    # then the charge is recorded, then refunded in full under the charge's key, once
    number = the_order().number
    assert findings(first) == [("refunded", intent_id, number)]
    assert findings(second) == [("matched", intent_id, None)]
    assert [(r.idempotency_key, r.params["amount"]) for r in standin.posts("/v1/refunds")] == [
        (f"charge:{intent_id}:refund", str(payment.amount_minor))
    ]
    assert the_payment().status == PaymentStatus.REFUNDED
    assert payment_changes(payment.id)[-2:] == [
        ("requires_action", "succeeded"),
        ("succeeded", "refunded"),
    ]
    assert the_order().status == OrderStatus.CANCELLED


def test_a_charge_naming_no_payment_of_ours_is_counted_and_never_refunded(
    app: Flask, standin: StripeStandIn
) -> None:
    # given a charge made at Stripe by someone else (no payment of ours in its metadata)
    outcome = get_gateway("stripe").create_payment(
        PaymentRequest(
            amount=Money(2500, "EUR"),
            idempotency_key="dashboard-charge-1",
            description="",
            return_url="",
        )
    )
    standin.confirm(outcome.gateway_payment_id)

    # when reconciliation runs, twice
    first = services.reconcile_charges()
    second = services.reconcile_charges()

    # then it is reported each time, counted by the metric, and nothing is refunded
    assert findings(first) == findings(second) == [("foreign", outcome.gateway_payment_id, None)]
    assert (first.unreconciled, unreconciled()) == (1, 1.0)
    assert standin.posts("/v1/refunds") == []
    assert count(Payment) == 0


def test_charges_older_than_the_window_are_left_alone(
    buyer: FlaskClient, standin: StripeStandIn
) -> None:
    intent_id = paid_at_stripe(buyer, standin)
    standin.backdate(intent_id, 49 * 3600)

    report = services.reconcile_charges()

    assert findings(report) == []
    assert the_order().status.value == "pending_payment"


def test_the_command_prints_what_it_did(
    buyer: FlaskClient, app: Flask, standin: StripeStandIn
) -> None:
    # given a lost success and a foreign charge
    intent_id = paid_at_stripe(buyer, standin)
    foreign = get_gateway("stripe").create_payment(
        PaymentRequest(Money(990, "EUR"), "dashboard-charge-2", "", "")
    )
    standin.confirm(foreign.gateway_payment_id)
    payment = the_payment()
    runner = app.test_cli_runner()

    # when the operator runs the command, then again
    first = runner.invoke(args=["payments", "reconcile", "--hours", "48"])
    second = runner.invoke(args=["payments", "reconcile"])

    # then it lists what it did, then finds nothing left to do but the foreign charge
    number = the_order().number
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert lines[:2] == [
        f"foreign     stripe {foreign.gateway_payment_id}  €9.90  -  "
        "no payment of ours: not refunded, look at it",
        f"paid        stripe {intent_id}  {payment.amount.format()}  {number}  the order is paid",
    ]
    assert re.fullmatch(
        rf"2 charges since {SINCE} UTC: 0 matched, 1 paid, 0 refunded, 1 foreign, 0 unresolved, "
        r"0 missing_charge, 0 missing_refund\.",
        lines[2],
    )
    assert re.fullmatch(
        rf"2 charges since {SINCE} UTC: 1 matched, 0 paid, 0 refunded, 1 foreign, 0 unresolved, "
        r"0 missing_charge, 0 missing_refund\.",
        second.output.splitlines()[-1],
    )


def test_the_command_fails_and_changes_nothing_when_stripe_cannot_list(
    buyer: FlaskClient, app: Flask, standin: StripeStandIn
) -> None:
    paid_at_stripe(buyer, standin)
    standin.fail_next("server_error")

    result = app.test_cli_runner().invoke(args=["payments", "reconcile"])

    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        "Error: Nothing reconciled: The payment service is not available right now. "
        "Please try again."
    )
    assert the_order().status.value == "pending_payment"


def test_the_test_gateway_charge_of_a_lost_answer_places_and_pays_the_order_once(
    buyer: FlaskClient, monkeypatch: pytest.MonkeyPatch, mug: Any
) -> None:
    # given a card charged by the test gateway, and the worker killed before it recorded the
    # answer: the payment is still pending, and no order was placed
    with monkeypatch.context() as patch:
        patch.setattr(state, "apply_outcome", killed)
        with pytest.raises(WorkerKilled):
            pay(buyer, go_to_pay(buyer), CARD_SUCCEEDS)
    payment = the_payment()
    assert (payment.status, count(Order)) == (PaymentStatus.PENDING, 0)
    [charge_id] = db.session.scalars(select(sandbox.SandboxCharge.gateway_payment_id)).all()

    # when reconciliation runs, twice
    first = services.reconcile_charges()
    second = services.reconcile_charges()

    # then the first places the order and pays it; the second finds it paid
    order = the_order()
    assert findings(first) == [("paid", charge_id, order.number)]
    assert findings(second) == [("matched", charge_id, order.number)]
    assert (order.status, the_payment().status) == (OrderStatus.PAID, PaymentStatus.SUCCEEDED)
    assert payment_changes(payment.id) == [
        (None, "pending"),
        ("pending", "succeeded"),
        ("succeeded", "succeeded"),  # the attempt's payment became the order's
    ]
    assert stock_of(mug.id) == 3


def test_a_charge_for_a_payment_of_no_order_is_recorded_and_nothing_else(
    app: Flask, standin: StripeStandIn
) -> None:
    # given a payment of ours for something that is not an order, charged at Stripe
    payments.start_payment(
        payable_reference="invoice-2026-17",
        amount=Money(4500, "EUR"),
        gateway="stripe",
        idempotency_key="invoice-2026-17-key",
    )
    standin.confirm(the_payment().gateway_payment_id)

    # when reconciliation runs, twice
    first = services.reconcile_charges()
    second = services.reconcile_charges()

    # then the payment records the charge once; nothing is refunded or reported
    assert [(f.finding.value, f.detail) for f in first.findings] == [
        ("paid", "recorded: the payment pays no order")
    ]
    assert [(f.finding.value, f.detail) for f in second.findings] == [
        ("matched", "recorded: the payment pays no order")
    ]
    assert the_payment().status == PaymentStatus.SUCCEEDED
    assert (standin.posts("/v1/refunds"), second.unreconciled) == ([], 0)
