"""A payment whose gateway answer was lost: the worker died after the gateway charged the card
and before the shop stored the answer. Nothing may then cancel the order and keep the money:
the gateway is asked by the payment's key first, and the order is paid (or the money given
back). Here the death is simulated in-process; ``tests/checkout/test_api_interrupted_payments.py``
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
from funnel.orders import services as orders_services
from funnel.orders.errors import InvalidOrderTransition, OrderPaymentReceived
from funnel.payments import queries as payment_queries
from funnel.payments.errors import GatewayUnavailable
from funnel.payments.gateways.test import sandbox
from funnel.payments.gateways.test.gateway import SandboxGateway
from funnel.payments.models import PaymentStatus, TransactionKind
from funnel.payments.services import state
from tests.checkout.helpers import (
    CARD_SUCCEEDS,
    go_to_pay,
    orders,
    path_of,
    pay,
    stock_of,
    the_checkout,
)

pytestmark = pytest.mark.story("US-19")


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


def lose_the_answer(
    buyer: FlaskClient, monkeypatch: pytest.MonkeyPatch, token: str | None = None
) -> str:
    """Pay with the form (``token``, or a new one); the answer is lost. The order's number."""
    token = token or go_to_pay(buyer)
    with worker_killed_after_the_gateway_answered(monkeypatch), pytest.raises(WorkerKilled):
        pay(buyer, token, CARD_SUCCEEDS)
    [order] = orders()
    [payment] = payment_queries.payments_for(order.number)
    assert (order.status.value, payment.status, payment.gateway_payment_id) == (
        "pending_payment",
        PaymentStatus.PENDING,
        None,
    )
    assert [status for _, status, _ in charges()] == ["succeeded"]
    return order.number


def test_the_expiry_job_pays_the_order_whose_charge_answer_was_lost(
    app: Flask, buyer: FlaskClient, mug: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an order whose card the gateway charged while the worker died before recording it
    number = lose_the_answer(buyer, monkeypatch)

    # when the expiry job runs a day later
    days_later(monkeypatch)
    result = services.expire_checkouts()

    # then the gateway was asked: the order is paid with that one charge, nothing cancelled
    [(gateway_id, status, refunded)] = charges()
    [order] = orders()
    [payment] = payment_queries.payments_for(number)
    assert result == (0, 0)
    assert (order.status.value, status, refunded) == ("paid", "succeeded", 0)
    assert (payment.status, payment.gateway_payment_id) == (PaymentStatus.SUCCEEDED, gateway_id)
    assert (stock_of(mug.id), the_checkout().status) == (3, CheckoutStatus.COMPLETED)


def test_staff_cancelling_an_order_whose_charge_answer_was_lost_learn_it_was_paid(
    app: Flask, buyer: FlaskClient, mug: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an order whose card was charged, the answer lost
    number = lose_the_answer(buyer, monkeypatch)

    # when it is cancelled as unpaid
    with pytest.raises(OrderPaymentReceived):
        orders_services.cancel_order(number, reason="never paid")

    # then nothing is cancelled: the payment is recorded as received, the stock stays sold
    [order] = orders()
    [payment] = payment_queries.payments_for(number)
    assert (order.status.value, payment.status) == ("pending_payment", PaymentStatus.SUCCEEDED)
    assert (stock_of(mug.id), [status for _, status, _ in charges()]) == (3, ["succeeded"])


def test_a_payment_the_gateway_never_received_is_cancelled_only_once_no_answer_can_come(
    app: Flask, buyer: FlaskClient, mug: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an order whose payment was marked as sent, the worker dying before the gateway heard
    token = go_to_pay(buyer)
    with worker_killed_before_the_gateway_heard(monkeypatch), pytest.raises(WorkerKilled):
        pay(buyer, token, CARD_SUCCEEDS)
    [order] = orders()

    # when staff cancel it at once, then the job runs after the checkout expired
    with pytest.raises(GatewayUnavailable):
        orders_services.cancel_order(order.number, reason="never paid")
    status_then = orders()[0].status.value
    days_later(monkeypatch)
    result = services.expire_checkouts()

    # then the early cancellation waited (an answer could still come), the job cancelled it
    [payment] = payment_queries.payments_for(order.number)
    assert (status_then, result) == ("pending_payment", (0, 1))
    assert (orders()[0].status.value, payment.status) == ("cancelled", PaymentStatus.CANCELLED)
    assert (stock_of(mug.id), charges()) == (5, [])


def test_a_payment_arriving_for_an_order_that_can_no_longer_take_it_is_given_back(
    app: Flask, buyer: FlaskClient, mug: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an order whose charge answer was lost, and an order that can no longer be paid
    number = lose_the_answer(buyer, monkeypatch)

    def refuse(*_arguments: Any, **_keywords: Any) -> None:
        raise InvalidOrderTransition("cancelled meanwhile")

    monkeypatch.setattr(outcomes.orders, "mark_paid", refuse)

    # when the gateway's answer is learnt
    days_later(monkeypatch)
    services.expire_checkouts()

    # then the charge is refunded in full
    [payment] = payment_queries.payments_for(number)
    refunds = [
        (transaction.kind, transaction.amount_minor)
        for transaction in payment_queries.payment_transactions(payment.id)
        if transaction.kind == TransactionKind.REFUND
    ]
    [(_, status, refunded)] = charges()
    assert payment.status == PaymentStatus.REFUNDED
    assert refunds == [(TransactionKind.REFUND, payment.amount_minor)]
    assert (status, refunded) == ("succeeded", payment.amount_minor)


def test_sending_the_pay_form_again_after_a_death_before_the_gateway_heard_pays_once(
    app: Flask, buyer: FlaskClient, mug: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a pay form whose request died after placing the order, before the gateway heard
    token = go_to_pay(buyer)
    with worker_killed_before_the_gateway_heard(monkeypatch), pytest.raises(WorkerKilled):
        pay(buyer, token, CARD_SUCCEEDS)
    [order] = orders()

    # when the browser sends the same form again (back, then pay)
    again = pay(buyer, token, CARD_SUCCEEDS)

    # then the order's payment is sent now: the order is paid with one charge, one sale
    [(gateway_id, status, refunded)] = charges()
    [payment] = payment_queries.payments_for(order.number)
    assert (again.status_code, path_of(again)) == (303, f"/checkout/complete/{order.number}")
    assert [each.status.value for each in orders()] == ["paid"]
    assert (payment.status, payment.gateway_payment_id) == (PaymentStatus.SUCCEEDED, gateway_id)
    assert (status, refunded, stock_of(mug.id)) == ("succeeded", 0, 3)
    assert buyer.get(path_of(again)).status_code == 200


def test_sending_the_pay_form_again_after_the_charge_answer_was_lost_pays_once(
    app: Flask, buyer: FlaskClient, mug: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a pay form whose request died after the gateway charged the card
    token = go_to_pay(buyer)
    number = lose_the_answer(buyer, monkeypatch, token)

    # when the browser sends the same form again
    again = pay(buyer, token, CARD_SUCCEEDS)

    # then the gateway is asked, not charged again: the order is paid with its one charge
    [(gateway_id, status, refunded)] = charges()
    [payment] = payment_queries.payments_for(number)
    assert (again.status_code, path_of(again)) == (303, f"/checkout/complete/{number}")
    assert [each.status.value for each in orders()] == ["paid"]
    assert (payment.status, payment.gateway_payment_id) == (PaymentStatus.SUCCEEDED, gateway_id)
    assert (status, refunded, stock_of(mug.id)) == ("succeeded", 0, 3)
