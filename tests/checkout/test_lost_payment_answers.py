"""A payment whose gateway answer was lost: the worker died after the gateway charged the card
and before the shop stored the answer. The checkout's attempt then has no order yet, and
nothing may forget the money: the gateway is asked by the payment's key (the expiry job, the
form sent again, or its webhook), and the order is placed and paid, or the money given back.
Here the death is simulated in-process; ``tests/checkout/test_api_interrupted_payments.py``
kills real gunicorn workers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from funnel.checkout import services
from funnel.checkout.models import CheckoutStatus
from funnel.checkout.services import outcomes
from funnel.core import clock
from funnel.extensions import db
from funnel.orders.errors import InvalidOrderTransition
from funnel.payments import queries as payment_queries
from funnel.payments.gateways.test import sandbox
from funnel.payments.gateways.test.gateway import SandboxGateway
from funnel.payments.models import Payment, PaymentStatus, TransactionKind
from funnel.payments.services import state
from tests.checkout.helpers import (
    CARD_PROCESSING,
    CARD_SUCCEEDS,
    go_to_pay,
    orders,
    path_of,
    pay,
    stock_of,
    the_checkout,
)
from tests.payments.helpers import sandbox_gateway

pytestmark = [pytest.mark.story("US-19"), pytest.mark.story("US-63")]


class WorkerKilled(BaseException):
    """The process dies here: nothing after it runs (not an Exception: no handler sees it)."""


@contextmanager
def worker_killed_after_the_gateway_answered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The gateway charges the card; the worker dies before the answer is recorded."""

    def die(*_arguments: Any, **_keywords: Any) -> None:
        raise WorkerKilled()

    with monkeypatch.context() as patch:
        patch.setattr(state, "apply_outcome", die)
        yield


@contextmanager
def worker_killed_before_the_gateway_heard(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The payment is marked as sent; the worker dies before the gateway receives it."""

    def die(*_arguments: Any, **_keywords: Any) -> None:
        raise WorkerKilled()

    with monkeypatch.context() as patch:
        patch.setattr(SandboxGateway, "create_payment", die)
        yield


def charges() -> list[tuple[str, str, int]]:
    """The test gateway's charges: (gateway id, status, refunded)."""
    rows = db.session.execute(
        select(
            sandbox.SandboxCharge.gateway_payment_id,
            sandbox.SandboxCharge.status,
            sandbox.SandboxCharge.refunded_minor,
        ).order_by(sandbox.SandboxCharge.id)
    )
    return [(row[0], row[1], row[2]) for row in rows]


def days_later(monkeypatch: pytest.MonkeyPatch, hours: int = 25) -> None:
    later = clock.utcnow() + timedelta(hours=hours)
    monkeypatch.setattr(clock, "utcnow", lambda: later)


def the_payment() -> Payment:
    [payment] = db.session.scalars(select(Payment).execution_options(populate_existing=True)).all()
    return payment


def lose_the_answer(
    buyer: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    token: str | None = None,
    card: str = CARD_SUCCEEDS,
) -> str:
    """Pay with the form (``token``, or a new one); the answer is lost. The charge's id."""
    token = token or go_to_pay(buyer)
    with worker_killed_after_the_gateway_answered(monkeypatch), pytest.raises(WorkerKilled):
        pay(buyer, token, card)
    payment = the_payment()
    assert orders() == []  # no order before the payment's outcome is known
    assert (payment.status, payment.gateway_payment_id) == (PaymentStatus.PENDING, None)
    [(gateway_id, status, _)] = charges()
    assert status == ("succeeded" if card == CARD_SUCCEEDS else "processing")
    return gateway_id


def test_the_expiry_job_places_and_pays_the_order_whose_charge_answer_was_lost(
    app: Flask, buyer: FlaskClient, mug: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a checkout whose card the gateway charged while the worker died before recording it
    gateway_id = lose_the_answer(buyer, monkeypatch)

    # when the expiry job runs a day later
    days_later(monkeypatch)
    result = services.expire_checkouts()

    # then the gateway was asked: the order is placed and paid with that one charge
    [(_, status, refunded)] = charges()
    [order] = orders()
    payment = the_payment()
    assert result == (0, 1)
    assert (order.status.value, status, refunded) == ("paid", "succeeded", 0)
    assert (payment.status, payment.gateway_payment_id) == (PaymentStatus.SUCCEEDED, gateway_id)
    assert payment.payable_reference == order.number
    assert (stock_of(mug.id), the_checkout().status) == (3, CheckoutStatus.COMPLETED)


def test_the_gateways_webhook_places_and_pays_the_order_whose_charge_answer_was_lost(
    app: Flask, buyer: FlaskClient, mug: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a checkout whose card the gateway took to process, the answer lost
    gateway_id = lose_the_answer(buyer, monkeypatch, card=CARD_PROCESSING)

    # when the gateway settles it and its signed event arrives (twice: a redelivery)
    sandbox.settle_due_charges(clock.utcnow() + timedelta(seconds=60))
    webhook = sandbox.webhooks_for(gateway_id)[-1]
    body, headers = sandbox_gateway().signed_webhook(webhook.body)
    first = buyer.post("/webhooks/test", data=body, headers=headers)
    again = buyer.post("/webhooks/test", data=body, headers=headers)

    # then the order is placed once and paid, the stock sold once, the checkout completed
    [order] = orders()
    assert (first.status_code, again.status_code) == (200, 200)
    assert (order.status.value, the_payment().payable_reference) == ("paid", order.number)
    assert (stock_of(mug.id), the_checkout().status) == (3, CheckoutStatus.COMPLETED)
    assert [status for _, status, _ in charges()] == ["succeeded"]


def test_a_payment_the_gateway_never_received_is_cancelled_by_the_expiry_job(
    app: Flask, buyer: FlaskClient, mug: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a payment marked as sent, the worker dying before the gateway heard
    token = go_to_pay(buyer)
    with worker_killed_before_the_gateway_heard(monkeypatch), pytest.raises(WorkerKilled):
        pay(buyer, token, CARD_SUCCEEDS)

    # when the job runs after the checkout expired
    days_later(monkeypatch)
    result = services.expire_checkouts()

    # then the payment is cancelled, no order was ever placed, the checkout given up, the
    # stock free
    assert (result, orders()) == ((1, 1), [])
    assert the_payment().status == PaymentStatus.CANCELLED
    assert (stock_of(mug.id), charges()) == (5, [])


def test_a_payment_arriving_for_an_order_that_can_no_longer_take_it_is_given_back(
    app: Flask, buyer: FlaskClient, mug: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a checkout whose charge answer was lost, and an order that cannot be paid
    lose_the_answer(buyer, monkeypatch)

    def refuse(*_arguments: Any, **_keywords: Any) -> None:
        raise InvalidOrderTransition("cancelled meanwhile")

    monkeypatch.setattr(outcomes.orders, "mark_paid", refuse)

    # when the gateway's answer is learnt
    days_later(monkeypatch)
    services.expire_checkouts()

    # then the charge is refunded in full, and no order is left behind
    payment = the_payment()
    refunds = [
        (transaction.kind, transaction.amount_minor)
        for transaction in payment_queries.payment_transactions(payment.id)
        if transaction.kind == TransactionKind.REFUND
    ]
    [(_, status, refunded)] = charges()
    assert payment.status == PaymentStatus.REFUNDED
    assert refunds == [(TransactionKind.REFUND, payment.amount_minor)]
    assert (status, refunded) == ("succeeded", payment.amount_minor)
    assert orders() == []


def test_sending_the_pay_form_again_after_a_death_before_the_gateway_heard_pays_once(
    app: Flask, buyer: FlaskClient, mug: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a pay form whose request died after recording the attempt, before the gateway heard
    token = go_to_pay(buyer)
    with worker_killed_before_the_gateway_heard(monkeypatch), pytest.raises(WorkerKilled):
        pay(buyer, token, CARD_SUCCEEDS)

    # when the browser sends the same form again (back, then pay)
    again = pay(buyer, token, CARD_SUCCEEDS)

    # then the attempt's payment is sent now: one order, paid with one charge, one sale
    [(gateway_id, status, refunded)] = charges()
    [order] = orders()
    payment = the_payment()
    assert (again.status_code, path_of(again)) == (303, f"/checkout/complete/{order.number}")
    assert order.status.value == "paid"
    assert (payment.status, payment.gateway_payment_id) == (PaymentStatus.SUCCEEDED, gateway_id)
    assert (status, refunded, stock_of(mug.id)) == ("succeeded", 0, 3)
    assert buyer.get(path_of(again)).status_code == 200


def test_sending_the_pay_form_again_after_the_charge_answer_was_lost_pays_once(
    app: Flask, buyer: FlaskClient, mug: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a pay form whose request died after the gateway charged the card
    token = go_to_pay(buyer)
    gateway_id = lose_the_answer(buyer, monkeypatch, token)

    # when the browser sends the same form again
    again = pay(buyer, token, CARD_SUCCEEDS)

    # then the gateway is asked, not charged again: the order is paid with its one charge
    [(_, status, refunded)] = charges()
    [order] = orders()
    payment = the_payment()
    assert (again.status_code, path_of(again)) == (303, f"/checkout/complete/{order.number}")
    assert order.status.value == "paid"
    assert (payment.status, payment.gateway_payment_id) == (PaymentStatus.SUCCEEDED, gateway_id)
    assert (status, refunded, stock_of(mug.id)) == ("succeeded", 0, 3)
