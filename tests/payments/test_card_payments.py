"""Card payments through the test gateway: each documented card, idempotency, bad input."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from funnel.core.database import transaction
from funnel.extensions import db
from funnel.payments import queries, services
from funnel.payments.errors import (
    GatewayNotEnabled,
    InsufficientFunds,
    InvalidCard,
    InvalidPaymentInput,
    PaymentDeclined,
    PaymentIdempotencyKeyReused,
    PaymentInProgress,
)
from funnel.payments.gateways.test.sandbox import SandboxCharge
from funnel.payments.models import (
    PaymentStatus,
    PaymentTransaction,
    TransactionKind,
    TransactionStatus,
)
from tests.factories.payments import PaymentFactory, card, money, paid_payment

pytestmark = pytest.mark.story("US-45")


def charges() -> int:
    return db.session.scalar(select(func.count()).select_from(SandboxCharge))


def history(payment_id: int) -> list[tuple[str | None, str]]:
    return [(event.from_status, event.to_status) for event in queries.payment_history(payment_id)]


@pytest.mark.story("US-21")
def test_the_4242_card_succeeds_keeping_only_brand_and_last_four(app: Flask) -> None:
    # when a customer pays 25.00 with 4242 4242 4242 4242
    result = paid_payment(2500, "4242 4242 4242 4242")

    # then the payment succeeded, and the result says so in the customer's words
    assert (result.status, result.changed, result.is_paid) == (PaymentStatus.SUCCEEDED, True, True)
    assert result.message == "Your payment was received. Thank you."
    payment = queries.get_payment(result.payment_id)
    assert (payment.card_brand, payment.card_last4) == ("visa", "4242")
    assert payment.amount == money(2500)
    assert payment.gateway_payment_id is not None
    assert payment.gateway_payment_id.startswith("tpay_")
    assert history(payment.id) == [(None, "pending"), ("pending", "succeeded")]
    [charge] = queries.payment_transactions(payment.id)
    assert (charge.kind, charge.status, charge.amount_minor) == (
        TransactionKind.CHARGE,
        TransactionStatus.SUCCEEDED,
        2500,
    )


@pytest.mark.parametrize(
    ("number", "code", "message", "error"),
    [
        ("4000 0000 0000 0002", "payment_declined", "Your card was declined.", PaymentDeclined),
        (
            "4000 0000 0000 9995",
            "insufficient_funds",
            "Your card has insufficient funds.",
            InsufficientFunds,
        ),
    ],
)
@pytest.mark.story("US-21")
def test_a_refused_card_fails_with_a_reason_and_the_payable_can_be_paid_again(
    app: Flask, number: str, code: str, message: str, error: type[Exception]
) -> None:
    # given a payment refused by the card's bank
    failed = paid_payment(1999, number, payable_reference="ORD-1", idempotency_key="attempt-1a")
    assert (failed.status, failed.failure_code, failed.message) == (
        PaymentStatus.FAILED,
        code,
        message,
    )
    assert failed.is_failed is True
    with pytest.raises(error) as raised:
        failed.raise_for_failure()
    assert raised.value.code == code
    [charge] = queries.payment_transactions(failed.payment_id)
    assert (charge.status, charge.failure_code) == (TransactionStatus.FAILED, code)

    # when the customer tries again with another card (a new attempt, a new key)
    retried = paid_payment(
        1999, "4242424242424242", payable_reference="ORD-1", idempotency_key="attempt-2a"
    )

    # then the second attempt pays the same payable
    assert retried.status == PaymentStatus.SUCCEEDED
    assert [p.status for p in queries.payments_for("ORD-1")] == [
        PaymentStatus.FAILED,
        PaymentStatus.SUCCEEDED,
    ]
    assert queries.live_payment_for("ORD-1").id == retried.payment_id


def test_any_other_valid_number_succeeds_with_its_brand(app: Flask) -> None:
    result = paid_payment(500, "5555 5555 5555 4444")

    assert (result.status, result.card_brand, result.card_last4) == (
        PaymentStatus.SUCCEEDED,
        "mastercard",
        "4444",
    )


def test_invalid_card_input_records_no_charge_and_can_be_corrected(app: Flask) -> None:
    # given a pending payment
    payment = PaymentFactory()

    # when the customer submits a mistyped number and a past expiry
    with pytest.raises(InvalidCard) as raised:
        services.submit_payment(payment.id, card("4242 4242 4242 4241", expiry="01/20"))

    # then each bad field is named, the gateway holds nothing and the payment waits
    assert set(raised.value.fields) == {"card_number", "card_expiry"}
    assert charges() == 0
    assert queries.get_payment(payment.id).status == PaymentStatus.PENDING

    # when the corrected card is submitted, the same payment succeeds
    assert services.submit_payment(payment.id, card()).status == PaymentStatus.SUCCEEDED


@pytest.mark.story("US-21")
def test_the_same_idempotency_key_never_charges_twice(app: Flask) -> None:
    # given a payment made with key K
    first = paid_payment(2500, payable_reference="ORD-7", idempotency_key="order-7-attempt-1")

    # when checkout retries with the same key (a timeout, a double click)
    again = paid_payment(2500, payable_reference="ORD-7", idempotency_key="order-7-attempt-1")
    resubmitted = services.submit_payment(first.payment_id, card())

    # then it is the same payment, charged once
    assert again.payment_id == resubmitted.payment_id == first.payment_id
    assert (again.changed, resubmitted.changed) == (False, False)
    assert again.status == PaymentStatus.SUCCEEDED
    assert charges() == 1
    assert db.session.scalar(select(func.count()).select_from(PaymentTransaction)) == 1


def test_concurrent_creates_with_one_key_make_one_payment_and_one_charge(
    app: Flask, in_threads
) -> None:
    def attempt():
        return paid_payment(2500, payable_reference="ORD-9", idempotency_key="order-9-key-1")

    results = in_threads(*[attempt] * 5)

    assert [type(result).__name__ for result in results] == ["PaymentResult"] * 5
    assert {result.payment_id for result in results} == {results[0].payment_id}
    assert [result.changed for result in results].count(True) == 1
    assert charges() == 1
    assert history(results[0].payment_id) == [(None, "pending"), ("pending", "succeeded")]


def test_a_key_reused_for_another_request_is_refused(app: Flask) -> None:
    paid_payment(2500, payable_reference="ORD-3", idempotency_key="order-3-key-1")

    with pytest.raises(PaymentIdempotencyKeyReused):
        paid_payment(2600, payable_reference="ORD-3", idempotency_key="order-3-key-1")


def test_a_payable_has_one_live_payment_at_a_time(app: Flask) -> None:
    # given a payable already paid
    paid_payment(2500, payable_reference="ORD-4", idempotency_key="order-4-key-1")

    # when another payment with another key is attempted for it, it is refused before any charge
    with pytest.raises(PaymentInProgress) as raised:
        paid_payment(2500, payable_reference="ORD-4", idempotency_key="order-4-key-2")

    assert raised.value.code == "payment_in_progress"
    assert charges() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("payable_reference", ""),
        ("payable_reference", "ORD 1"),
        ("idempotency_key", "short"),
        ("idempotency_key", "has a space in it"),
        ("return_url", "javascript:alert(1)"),
        ("return_url", "//evil.example/return"),
        ("capture_method", "later"),
    ],
)
def test_bad_payment_input_is_a_validation_error(app: Flask, field: str, value: str) -> None:
    with pytest.raises(InvalidPaymentInput) as raised:
        PaymentFactory(**{field: value})

    assert list(raised.value.fields) == [field]
    assert queries.payments_for("ORD-000000") == []


def test_a_zero_amount_is_refused(app: Flask) -> None:
    with pytest.raises(InvalidPaymentInput) as raised:
        PaymentFactory(amount=money(0))

    assert list(raised.value.fields) == ["amount"]


@pytest.mark.config(PAYMENT_GATEWAYS="manual")
def test_a_disabled_gateway_cannot_be_used(app: Flask) -> None:
    with pytest.raises(GatewayNotEnabled):
        paid_payment(2500)

    assert charges() == 0


def test_gateway_calls_are_refused_inside_a_transaction(app: Flask) -> None:
    payment = PaymentFactory()

    with pytest.raises(RuntimeError, match="outside transaction"), transaction():
        services.submit_payment(payment.id, card())

    assert charges() == 0
