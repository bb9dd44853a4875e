"""Refunds (never more than paid, once per key), capture and void."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from funnel.core.database import transaction
from funnel.core.money import Money
from funnel.extensions import db
from funnel.payments import queries, services
from funnel.payments.errors import (
    InvalidPaymentInput,
    InvalidTransition,
    NothingLeftToRefund,
    PaymentIdempotencyKeyReused,
    RefundExceedsPayment,
)
from funnel.payments.gateways.test import sandbox
from funnel.payments.models import Payment, PaymentStatus, TransactionKind, TransactionStatus
from tests.factories.payments import money, paid_payment
from tests.payments.helpers import status_changes

pytestmark = pytest.mark.story("US-32")


def test_partial_refunds_then_the_rest_make_the_payment_refunded(app: Flask) -> None:
    # given a paid payment of 50.00
    paid = paid_payment(5000)

    # when 20.00, then 30.00 are refunded
    first = services.refund_payment(paid.payment_id, money(2000), "refund-one-0001", reason="late")
    second = services.refund_payment(paid.payment_id, money(3000), "refund-two-0001")

    # then the payment is partially, then fully refunded, with one transaction per refund
    assert (first.payment_status, first.refunded, first.changed) == (
        PaymentStatus.PARTIALLY_REFUNDED,
        money(2000),
        True,
    )
    assert (second.payment_status, second.refunded) == (PaymentStatus.REFUNDED, money(5000))
    refunds = [
        (t.kind, t.status, t.amount_minor)
        for t in queries.payment_transactions(paid.payment_id)
        if t.kind == TransactionKind.REFUND
    ]
    assert refunds == [
        (TransactionKind.REFUND, TransactionStatus.SUCCEEDED, 2000),
        (TransactionKind.REFUND, TransactionStatus.SUCCEEDED, 3000),
    ]
    assert status_changes(paid.payment_id)[-2:] == [
        ("succeeded", "partially_refunded"),
        ("partially_refunded", "refunded"),
    ]
    payment = queries.get_payment(paid.payment_id)
    assert sandbox.charge_by_id(payment.gateway_payment_id).refunded_minor == 5000
    assert (payment.refunded_minor, payment.refund_pending_minor) == (5000, 0)


def test_a_refund_larger_than_what_is_left_is_refused(app: Flask) -> None:
    paid = paid_payment(5000)
    services.refund_payment(paid.payment_id, money(4000), "refund-big-0001")

    with pytest.raises(RefundExceedsPayment) as raised:
        services.refund_payment(paid.payment_id, money(1001), "refund-big-0002")

    assert raised.value.detail == "At most $10.00 can still be refunded."
    payment = queries.get_payment(paid.payment_id)
    assert (payment.refunded_minor, payment.refund_pending_minor) == (4000, 0)
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED


def test_a_refund_retried_with_its_key_refunds_once(app: Flask) -> None:
    paid = paid_payment(5000)

    first = services.refund_payment(paid.payment_id, money(1500), "refund-same-0001")
    again = services.refund_payment(paid.payment_id, money(1500), "refund-same-0001")

    assert (first.changed, again.changed) == (True, False)
    assert first.transaction_id == again.transaction_id
    assert queries.get_payment(paid.payment_id).refunded_minor == 1500
    with pytest.raises(PaymentIdempotencyKeyReused):
        services.refund_payment(paid.payment_id, money(1600), "refund-same-0001")


def test_concurrent_refunds_never_exceed_the_payment(app: Flask, in_threads) -> None:
    paid = paid_payment(5000)

    outcomes = in_threads(
        *[
            (lambda n=n: services.refund_payment(paid.payment_id, money(2000), f"refund-c-{n:04d}"))
            for n in range(4)
        ]
    )

    succeeded = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, RefundExceedsPayment)]
    assert (len(succeeded), len(refused)) == (2, 2)
    payment = queries.get_payment(paid.payment_id)
    assert (payment.refunded_minor, payment.refund_pending_minor) == (4000, 0)


@pytest.mark.parametrize(
    ("amount", "error"),
    [(0, InvalidPaymentInput), (-5, InvalidPaymentInput)],
)
def test_a_refund_must_be_positive(app: Flask, amount: int, error: type[Exception]) -> None:
    paid = paid_payment(5000)

    with pytest.raises(error):
        services.refund_payment(paid.payment_id, money(amount), "refund-bad-0001")


def test_a_refund_in_another_currency_is_refused(app: Flask) -> None:
    paid = paid_payment(5000)

    with pytest.raises(InvalidPaymentInput):
        services.refund_payment(paid.payment_id, Money(100, "EUR"), "refund-eur-0001")

    assert queries.get_payment(paid.payment_id).refunded_minor == 0


def test_a_failed_payment_cannot_be_refunded(app: Flask) -> None:
    failed = paid_payment(5000, "4000000000000002")

    with pytest.raises(InvalidTransition) as raised:
        services.refund_payment(failed.payment_id, money(100), "refund-fail-0001")

    assert raised.value.code == "invalid_transition"


def test_a_manual_capture_payment_is_authorised_then_captured(app: Flask) -> None:
    authorised = paid_payment(5000, capture_method="manual")
    assert (authorised.status, authorised.is_paid) == (PaymentStatus.AUTHORIZED, True)

    captured = services.capture_payment(authorised.payment_id, actor_user_id=7)
    again = services.capture_payment(authorised.payment_id, actor_user_id=7)

    assert (captured.status, captured.changed, again.changed) == (
        PaymentStatus.SUCCEEDED,
        True,
        False,
    )
    kinds = [t.kind.value for t in queries.payment_transactions(authorised.payment_id)]
    assert kinds == ["charge", "capture"]
    assert queries.payment_history(authorised.payment_id)[-1].actor_user_id == 7


def test_an_authorised_payment_can_be_voided_and_then_not_captured(app: Flask) -> None:
    authorised = paid_payment(5000, capture_method="manual")

    voided = services.void_payment(authorised.payment_id, reason="customer cancelled")

    assert (voided.status, voided.changed) == (PaymentStatus.CANCELLED, True)
    assert queries.live_payment_for(authorised.payable_reference) is None
    with pytest.raises(InvalidTransition):
        services.capture_payment(authorised.payment_id)
    assert services.void_payment(authorised.payment_id, reason="again").changed is False


def test_a_succeeded_payment_cannot_be_voided(app: Flask) -> None:
    paid = paid_payment(5000)

    with pytest.raises(InvalidTransition):
        services.void_payment(paid.payment_id, reason="too late")

    assert queries.get_payment(paid.payment_id).status == PaymentStatus.SUCCEEDED


def test_a_processing_payment_voided_at_the_gateway_never_succeeds_later(app: Flask) -> None:
    processing = paid_payment(5000, "4000000000000259")

    services.void_payment(processing.payment_id, reason="abandoned")

    payment = queries.get_payment(processing.payment_id)
    assert sandbox.charge_by_id(payment.gateway_payment_id).status == "cancelled"
    assert payment.status == PaymentStatus.CANCELLED


def test_a_refund_of_a_payment_refunded_in_full_is_nothing_left_to_refund(app: Flask) -> None:
    paid = paid_payment(5000)
    services.refund_payment(paid.payment_id, money(5000), "refund-all-0001")

    with pytest.raises(NothingLeftToRefund) as raised:
        services.refund_payment(paid.payment_id, money(100), "refund-more-0001")

    assert (raised.value.code, raised.value.status) == ("nothing_left_to_refund", 409)
    assert queries.get_payment(paid.payment_id).refunded_minor == 5000


def test_a_refund_while_the_rest_is_being_refunded_is_nothing_left_to_refund(app: Flask) -> None:
    # given a refund of all that was paid, reserved and not yet answered by the gateway
    paid = paid_payment(5000)
    with transaction():
        db.session.execute(
            sa.update(Payment)
            .where(Payment.id == paid.payment_id)
            .values(refund_pending_minor=5000)
        )

    with pytest.raises(NothingLeftToRefund):
        services.refund_payment(paid.payment_id, money(5000), "refund-race-0001")

    assert queries.get_payment(paid.payment_id).refund_pending_minor == 5000
