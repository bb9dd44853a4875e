"""The stripe gateway against a local stand-in for Stripe's API: what it sends (amounts in
minor units, currencies, metadata, idempotency keys, reused on retry) and how Stripe's answers
and failures become the payment domain's outcomes and errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from funnel.core.money import Money
from funnel.payments import queries, services
from funnel.payments.errors import (
    GatewayUnavailable,
    NothingLeftToRefund,
    PaymentIdempotencyKeyReused,
    RefundExceedsPayment,
)
from funnel.payments.gateways import get_gateway
from funnel.payments.gateways.base import CardDetails, OutcomeStatus, PaymentRequest
from funnel.payments.gateways.stripe import KEY_METADATA, StripeGateway
from funnel.payments.models import PaymentStatus
from tests.payments.helpers import status_changes
from tests.support.stripe_standin import API_KEY, StripeStandIn, stripe_enabled

pytestmark = pytest.mark.story("US-67")


@pytest.fixture
def standin(app: Flask) -> Iterator[StripeStandIn]:
    with stripe_enabled(app) as running:
        yield running


def gateway(standin: StripeStandIn, retries: int = 0, timeout: float = 15) -> StripeGateway:
    return StripeGateway(
        API_KEY,
        "whsec_unused",
        api_base=standin.url,
        network_retries=retries,
        timeout_seconds=timeout,
    )


def request(key: str = "pay-key-0001", amount: int = 4599, currency: str = "EUR") -> PaymentRequest:
    return PaymentRequest(
        amount=Money(amount, currency),
        idempotency_key=key,
        description="Order at the test shop",
        return_url="https://shop.example.com/checkout/return/ORD-1",
        metadata={"payment_public_id": "pay_public_1"},
    )


def start(key: str, amount: int = 4599, capture_method: str = "automatic"):
    return services.start_payment(
        payable_reference=f"ORD-{key}",
        amount=Money(amount, "USD"),
        gateway="stripe",
        idempotency_key=key,
        description="Order at the test shop",
        return_url="/checkout/return",
        capture_method=capture_method,
    )


# -- creating the intent ------------------------------------------------------------------------


def test_the_intent_carries_minor_units_currency_metadata_and_our_key(
    app: Flask, standin: StripeStandIn
) -> None:
    outcome = gateway(standin).create_payment(request())

    assert (outcome.status, outcome.gateway_payment_id) == (
        OutcomeStatus.REQUIRES_ACTION,
        "pi_00000001",
    )
    [sent] = standin.posts()
    assert (sent.path, sent.idempotency_key, sent.authorization) == (
        "/v1/payment_intents",
        "pay-key-0001",
        f"Bearer {API_KEY}",
    )
    assert sent.params == {
        "amount": "4599",
        "currency": "eur",
        "capture_method": "automatic",
        "automatic_payment_methods[enabled]": "true",
        "metadata[payment_public_id]": "pay_public_1",
        f"metadata[{KEY_METADATA}]": "pay-key-0001",
        "description": "Order at the test shop",
    }


def test_a_card_given_to_the_gateway_is_never_sent_to_stripe(
    app: Flask, standin: StripeStandIn
) -> None:
    card = CardDetails("4242424242424242", "12/40", "123")
    base = request()
    with_card = PaymentRequest(**{**base.__dict__, "payment_method": card})

    gateway(standin).create_payment(with_card)

    [sent] = standin.posts()
    assert "4242" not in repr(sent.params)
    assert "123" not in sent.params.values()


def test_the_same_key_returns_the_same_intent(app: Flask, standin: StripeStandIn) -> None:
    first = gateway(standin).create_payment(request())
    second = gateway(standin).create_payment(request())

    assert first.gateway_payment_id == second.gateway_payment_id == "pi_00000001"
    assert list(standin.intents) == ["pi_00000001"]


def test_the_same_key_with_another_amount_is_refused(app: Flask, standin: StripeStandIn) -> None:
    gateway(standin).create_payment(request())

    with pytest.raises(PaymentIdempotencyKeyReused):
        gateway(standin).create_payment(request(amount=100))

    assert list(standin.intents) == ["pi_00000001"]


def test_a_dropped_connection_is_retried_with_the_same_key(
    app: Flask, standin: StripeStandIn
) -> None:
    standin.fail_next("disconnect")

    outcome = gateway(standin, retries=2).create_payment(request())

    assert outcome.gateway_payment_id == "pi_00000001"
    assert [(r.path, r.idempotency_key) for r in standin.posts()] == [
        ("/v1/payment_intents", "pay-key-0001"),
        ("/v1/payment_intents", "pay-key-0001"),
    ]
    assert list(standin.intents) == ["pi_00000001"]


def test_a_lost_answer_then_a_retry_makes_one_intent(app: Flask, standin: StripeStandIn) -> None:
    standin.fail_next("answer_lost")

    with pytest.raises(GatewayUnavailable):
        gateway(standin).create_payment(request())
    retried = gateway(standin).create_payment(request())

    assert retried.gateway_payment_id == "pi_00000001"
    assert list(standin.intents) == ["pi_00000001"]
    assert gateway(standin).find_payment("pay-key-0001") == retried


def test_a_create_that_times_out_then_a_retry_makes_one_intent(
    app: Flask, standin: StripeStandIn
) -> None:
    standin.fail_next("timeout")

    with pytest.raises(GatewayUnavailable):
        gateway(standin, timeout=0.5).create_payment(request())
    retried = gateway(standin).create_payment(request())

    assert retried.gateway_payment_id == "pi_00000001"
    assert list(standin.intents) == ["pi_00000001"]
    assert [r.idempotency_key for r in standin.posts()] == ["pay-key-0001", "pay-key-0001"]


@pytest.mark.parametrize("failure", ["disconnect", "rate_limit", "server_error"])
def test_network_errors_rate_limits_and_outages_are_gateway_unavailable(
    app: Flask, standin: StripeStandIn, failure: str
) -> None:
    standin.fail_next(failure)

    with pytest.raises(GatewayUnavailable) as raised:
        gateway(standin).create_payment(request())

    assert (raised.value.code, raised.value.status) == ("gateway_unavailable", 503)
    assert standin.intents == {}


def test_a_wrong_api_key_is_gateway_unavailable(app: Flask, standin: StripeStandIn) -> None:
    wrong = StripeGateway("sk_test_wrong", "whsec_unused", api_base=standin.url, network_retries=0)

    with pytest.raises(GatewayUnavailable):
        wrong.create_payment(request())

    assert standin.intents == {}


def test_a_declined_card_is_a_failed_outcome(app: Flask, standin: StripeStandIn) -> None:
    standin.fail_next("card_declined")

    outcome = gateway(standin).create_payment(request())

    assert (outcome.status, outcome.failure_code, outcome.failure_message) == (
        OutcomeStatus.FAILED,
        "payment_declined",
        "Your card was declined.",
    )


def test_find_payment_knows_no_intent_for_an_unknown_key(
    app: Flask, standin: StripeStandIn
) -> None:
    assert gateway(standin).find_payment("never-sent") is None


# -- through the payments services -------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "status", "code"),
    [
        ("succeeded", PaymentStatus.SUCCEEDED, None),
        ("declined", PaymentStatus.FAILED, "payment_declined"),
        ("insufficient_funds", PaymentStatus.FAILED, "insufficient_funds"),
        ("authentication_failed", PaymentStatus.FAILED, "authentication_failed"),
    ],
)
def test_the_return_url_records_what_the_customer_did_at_stripe(
    app: Flask, standin: StripeStandIn, outcome: str, status: PaymentStatus, code: str | None
) -> None:
    # given a payment whose intent waits for the customer's card
    started = start("pay-return-0001")
    assert started.status == PaymentStatus.REQUIRES_ACTION
    payment = queries.get_payment(started.payment_id)

    # when the customer confirms at Stripe and comes back
    standin.confirm(payment.gateway_payment_id, outcome)
    result = services.confirm_payment_action(started.payment_id)

    # then the payment is what Stripe says, once, with the card's brand and last four digits
    # when it was charged
    assert (result.status, result.failure_code, result.changed) == (status, code, True)
    assert status_changes(started.payment_id)[-1] == ("requires_action", status.value)
    payment = queries.get_payment(started.payment_id)
    card = ("visa", "4242") if status == PaymentStatus.SUCCEEDED else (None, None)
    assert (payment.card_brand, payment.card_last4) == card
    [retrieved] = [r for r in standin.requests if r.method == "GET"]
    assert retrieved.params == {"expand[0]": "latest_charge"}


def test_capture_then_partial_and_full_refunds_send_their_own_keys(
    app: Flask, standin: StripeStandIn
) -> None:
    # given an authorised payment (capture at fulfilment)
    started = start("pay-capture-0001", amount=5000, capture_method="manual")
    intent_id = queries.get_payment(started.payment_id).gateway_payment_id
    standin.confirm(intent_id)
    assert services.confirm_payment_action(started.payment_id).status == PaymentStatus.AUTHORIZED

    # when it is captured, then refunded in two parts
    captured = services.capture_payment(started.payment_id)
    services.refund_payment(started.payment_id, Money(2000, "USD"), "refund-key-0001")
    services.refund_payment(started.payment_id, Money(3000, "USD"), "refund-key-0002")

    # then Stripe was asked once for each, under its own key, in minor units
    assert captured.status == PaymentStatus.SUCCEEDED
    posts = [(r.path, r.params.get("amount"), r.idempotency_key) for r in standin.posts()][1:]
    assert posts[1:] == [
        ("/v1/refunds", "2000", "refund-key-0001"),
        ("/v1/refunds", "3000", "refund-key-0002"),
    ]
    assert posts[0][0] == f"/v1/payment_intents/{intent_id}/capture"
    assert standin.intents[intent_id]["amount_refunded"] == 5000
    assert queries.get_payment(started.payment_id).status == PaymentStatus.REFUNDED


def test_a_refund_stripe_refuses_is_not_recorded_as_done(
    app: Flask, standin: StripeStandIn
) -> None:
    started = start("pay-refund-0001", amount=3000)
    intent_id = queries.get_payment(started.payment_id).gateway_payment_id
    standin.confirm(intent_id)
    services.confirm_payment_action(started.payment_id)
    standin.intents[intent_id]["amount_refunded"] = 3000  # refunded in Stripe's dashboard

    outcome = gateway(standin).refund(intent_id, Money(3000, "USD"), "refund-key-0003")

    assert (outcome.is_successful, outcome.failure_code) == (False, "charge_already_refunded")


def test_void_cancels_the_intent(app: Flask, standin: StripeStandIn) -> None:
    started = start("pay-void-0001", capture_method="manual")
    intent_id = queries.get_payment(started.payment_id).gateway_payment_id
    standin.confirm(intent_id)
    services.confirm_payment_action(started.payment_id)

    voided = services.void_payment(started.payment_id, reason="order cancelled")

    assert voided.status == PaymentStatus.CANCELLED
    assert standin.intents[intent_id]["status"] == "canceled"
    assert get_gateway("stripe").name == "stripe"


def paid_through_stripe(standin: StripeStandIn, key: str, amount: int) -> tuple[int, str]:
    """A payment the customer paid at Stripe, recorded as succeeded: its id and intent."""
    started = start(key, amount=amount)
    intent_id = queries.get_payment(started.payment_id).gateway_payment_id
    standin.confirm(intent_id)
    assert services.confirm_payment_action(started.payment_id).status == PaymentStatus.SUCCEEDED
    return started.payment_id, intent_id


def test_ten_concurrent_full_refunds_make_one_refund_at_stripe(
    app: Flask, standin: StripeStandIn, in_threads
) -> None:
    payment_id, intent_id = paid_through_stripe(standin, "pay-conc-0001", 3000)

    outcomes = in_threads(
        *[
            (lambda n=n: services.refund_payment(payment_id, Money(3000, "USD"), f"re-c-{n:04d}"))
            for n in range(10)
        ]
    )

    refused = [o for o in outcomes if isinstance(o, NothingLeftToRefund | RefundExceedsPayment)]
    assert [o for o in outcomes if isinstance(o, Exception) and o not in refused] == []
    assert len(refused) == 9
    assert len(standin.refunds) == 1
    assert standin.intents[intent_id]["amount_refunded"] == 3000
    assert queries.get_payment(payment_id).status == PaymentStatus.REFUNDED


def test_a_refund_whose_answers_were_lost_is_made_once(app: Flask, standin: StripeStandIn) -> None:
    # given the shop's gateway (it retries twice) and three answers lost in a row
    payment_id, intent_id = paid_through_stripe(standin, "pay-lost-0001", 3000)
    standin.fail_next("answer_lost", times=3)

    # when the refund fails for now, then staff send it again with the same key
    with pytest.raises(GatewayUnavailable):
        services.refund_payment(payment_id, Money(1000, "USD"), "refund-lost-0001")
    again = services.refund_payment(payment_id, Money(1000, "USD"), "refund-lost-0001")

    # then Stripe was asked four times under one key and refunded once (the second call
    # resumed the first refund: not a new one)
    assert (again.status.value, again.changed) == ("succeeded", False)
    assert [r.idempotency_key for r in standin.posts("/v1/refunds")] == ["refund-lost-0001"] * 4
    assert len(standin.refunds) == 1
    assert standin.intents[intent_id]["amount_refunded"] == 1000
    assert queries.get_payment(payment_id).refunded_minor == 1000


def test_a_capture_whose_answer_was_lost_is_retried_under_its_key(
    app: Flask, standin: StripeStandIn
) -> None:
    started = start("pay-cap-lost-0001", amount=2000, capture_method="manual")
    intent_id = queries.get_payment(started.payment_id).gateway_payment_id
    standin.confirm(intent_id)
    services.confirm_payment_action(started.payment_id)
    standin.fail_next("answer_lost")

    captured = services.capture_payment(started.payment_id)

    assert captured.status == PaymentStatus.SUCCEEDED
    captures = standin.posts(f"/v1/payment_intents/{intent_id}/capture")
    assert len(captures) == 2
    assert len({r.idempotency_key for r in captures}) == 1
    assert standin.intents[intent_id]["amount_received"] == 2000
