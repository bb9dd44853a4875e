"""Webhooks: verified on the raw body, recorded once, applied once, never backwards."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from funnel.core import clock
from funnel.extensions import db
from funnel.payments import queries, services
from funnel.payments.errors import WebhookPayloadInvalid, WebhookSignatureInvalid
from funnel.payments.gateways import signatures
from funnel.payments.gateways.test import sandbox
from funnel.payments.models import PaymentStatus, WebhookEvent
from funnel.payments.tasks import deliver_due_test_webhooks
from tests.factories.payments import money, paid_payment
from tests.payments.helpers import sandbox_gateway, signed_event_for, status_changes

pytestmark = [pytest.mark.story("US-36"), pytest.mark.story("US-45")]
CARD_PROCESSING = "4000 0000 0000 0259"
SECRET = "whsec_test_secret"
BODY = b'{"id":"evt_1","type":"payment.succeeded"}'


def webhook_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(WebhookEvent))


def settle(payment_id: int) -> tuple[bytes, dict[str, str]]:
    """Let the test gateway decide a processing payment; the signed event it then owes."""
    later = clock.utcnow() + timedelta(seconds=60)
    assert sandbox.settle_due_charges(later) == 1
    return signed_event_for(payment_id)


# -- signatures (no database) -----------------------------------------------------------------


def test_a_good_signature_is_accepted() -> None:
    header = signatures.signature_header(BODY, SECRET)

    assert signatures.verify_signature(BODY, header, SECRET) == int(header[2:].split(",")[0])


def test_one_matching_signature_among_several_is_enough() -> None:
    header = signatures.signature_header(BODY, SECRET) + ",v1=" + "0" * 64

    signatures.verify_signature(BODY, header.replace("t=", "v1=deadbeef,t=", 1), SECRET)


@pytest.mark.parametrize(
    ("case", "body", "header"),
    [
        ("tampered body", BODY.replace(b"evt_1", b"evt_2"), "good"),
        ("wrong secret", BODY, "other-secret"),
        ("expired", BODY, "expired"),
        ("from the future", BODY, "future"),
        ("missing header", BODY, None),
        ("empty header", BODY, ""),
        ("no signature", BODY, "t-only"),
        ("no timestamp", BODY, "v1-only"),
        ("not ascii", BODY, "unicode"),
    ],
)
def test_a_bad_signature_is_refused(case: str, body: bytes, header: str | None) -> None:
    now = int(clock.utcnow().timestamp())
    headers = {
        "good": signatures.signature_header(BODY, SECRET, now),
        "other-secret": signatures.signature_header(BODY, "whsec_other", now),
        "expired": signatures.signature_header(BODY, SECRET, now - 301),
        "future": signatures.signature_header(BODY, SECRET, now + 301),
        "t-only": f"t={now}",
        "v1-only": "v1=" + signatures.compute_signature(BODY, SECRET, now),
        "unicode": f"t={now},v1=é" + "0" * 63,
    }

    with pytest.raises(WebhookSignatureInvalid) as raised:
        signatures.verify_signature(body, headers.get(header, header), SECRET)

    assert (raised.value.code, raised.value.status) == ("webhook_signature_invalid", 400)


def test_a_signature_just_inside_the_tolerance_is_accepted() -> None:
    now = int(clock.utcnow().timestamp())

    signatures.verify_signature(BODY, signatures.signature_header(BODY, SECRET, now - 299), SECRET)


# -- the processing card and its webhook ------------------------------------------------------


def test_the_processing_card_succeeds_later_by_a_signed_webhook(
    payments_client: FlaskClient,
) -> None:
    # given a payment with the card that stays processing
    result = paid_payment(3000, CARD_PROCESSING)
    assert (result.status, result.is_awaiting) == (PaymentStatus.PROCESSING, True)
    assert services.confirm_payment_action(result.payment_id).changed is False

    # when the gateway decides and delivers its signed event to the webhook endpoint
    body, headers = settle(result.payment_id)
    response = payments_client.post("/webhooks/test", data=body, headers=headers)

    # then the payment succeeded, once, by the gateway
    assert (response.status_code, response.get_data(as_text=True)) == (200, "succeeded")
    payment = queries.get_payment(result.payment_id)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert status_changes(payment.id)[-1] == ("processing", "succeeded")
    assert queries.payment_history(payment.id)[-1].actor == "gateway:test"
    assert webhook_rows() == 1


def test_a_webhook_replayed_five_times_changes_the_payment_once(
    payments_client: FlaskClient,
) -> None:
    result = paid_payment(3000, CARD_PROCESSING)
    body, headers = settle(result.payment_id)

    answers = [payments_client.post("/webhooks/test", data=body, headers=headers) for _ in range(5)]

    assert [(a.status_code, a.get_data(as_text=True)) for a in answers] == [
        (200, "succeeded"),
        *[(200, "duplicate")] * 4,
    ]
    assert status_changes(result.payment_id) == [
        (None, "pending"),
        ("pending", "processing"),
        ("processing", "succeeded"),
    ]
    assert webhook_rows() == 1


def test_ten_concurrent_deliveries_change_the_payment_once(app: Flask, in_threads) -> None:
    result = paid_payment(3000, CARD_PROCESSING)
    body, headers = settle(result.payment_id)

    outcomes = in_threads(*[lambda: services.apply_gateway_webhook("test", body, headers)] * 10)

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert [o is None for o in outcomes].count(True) == 9
    assert [o.changed for o in outcomes if o is not None] == [True]
    assert status_changes(result.payment_id)[-1] == ("processing", "succeeded")
    assert len(status_changes(result.payment_id)) == 3
    assert webhook_rows() == 1
    assert [t.kind.value for t in queries.payment_transactions(result.payment_id)] == ["charge"]


def test_a_late_success_never_moves_a_refunded_payment_backwards(app: Flask) -> None:
    # given a processing payment that succeeded, then was refunded in full
    result = paid_payment(3000, CARD_PROCESSING)
    body, headers = settle(result.payment_id)
    services.apply_gateway_webhook("test", body, headers)
    services.refund_payment(result.payment_id, money(3000), "refund-key-0001")

    # when the gateway sends a success event again, under a new event id
    event = json.loads(body)
    event["id"] = "evt_late_redelivery"
    late_body, late_headers = sandbox_gateway().signed_webhook(json.dumps(event))
    late = services.apply_gateway_webhook("test", late_body, late_headers)

    # then it is recorded and changes nothing
    assert (late.status, late.changed) == (PaymentStatus.REFUNDED, False)
    assert queries.get_payment(result.payment_id).status == PaymentStatus.REFUNDED
    assert webhook_rows() == 2


@pytest.mark.parametrize("case", ["tampered", "expired", "missing"])
def test_a_bad_webhook_answers_400_and_changes_nothing(
    payments_client: FlaskClient, case: str
) -> None:
    result = paid_payment(3000, CARD_PROCESSING)
    old = int(clock.utcnow().timestamp()) - 301
    body, headers = settle(result.payment_id)
    if case == "tampered":
        body = body.replace(b'"succeeded"', b'"failed"')
    elif case == "expired":
        body, headers = signed_event_for(result.payment_id, timestamp=old)
    else:
        headers = {"Content-Type": "application/json"}

    response = payments_client.post("/webhooks/test", data=body, headers=headers)

    assert (response.status_code, response.mimetype) == (400, "application/problem+json")
    assert response.json["code"] == "webhook_signature_invalid"
    assert queries.get_payment(result.payment_id).status == PaymentStatus.PROCESSING
    assert webhook_rows() == 0


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"id": 1, "data": {}}'])
def test_a_signed_body_that_is_not_an_event_is_refused(app: Flask, body: bytes) -> None:
    raw, headers = sandbox_gateway().signed_webhook(body.decode())

    with pytest.raises(WebhookPayloadInvalid):
        services.apply_gateway_webhook("test", raw, headers)

    assert webhook_rows() == 0


# -- delivery over real HTTP ------------------------------------------------------------------


def test_the_gateway_delivers_its_webhooks_over_http(live_server: str) -> None:
    # given a processing payment whose time has come
    result = paid_payment(3000, CARD_PROCESSING)
    payment = queries.get_payment(result.payment_id)
    sandbox.settle_due_charges(clock.utcnow() + timedelta(seconds=60))

    # when the delivery job runs (twice)
    delivered = deliver_due_test_webhooks.delay().get()
    again = deliver_due_test_webhooks.delay().get()

    # then the signed event reached the webhook endpoint over HTTP and was applied, once
    assert (delivered, again) == (1, 0)
    db.session.commit()
    assert queries.get_payment(result.payment_id).status == PaymentStatus.SUCCEEDED
    [webhook] = sandbox.webhooks_for(payment.gateway_payment_id)
    assert (webhook.attempts, webhook.last_error, webhook.delivered_at is not None) == (
        1,
        None,
        True,
    )


@pytest.mark.config(BASE_URL="http://127.0.0.1:9")
def test_an_undelivered_webhook_is_kept_for_a_later_attempt(app: Flask) -> None:
    result = paid_payment(3000, CARD_PROCESSING)
    sandbox.settle_due_charges(clock.utcnow() + timedelta(seconds=60))

    assert deliver_due_test_webhooks.delay().get() == 0

    [webhook] = sandbox.webhooks_for(queries.get_payment(result.payment_id).gateway_payment_id)
    assert (webhook.attempts, webhook.delivered_at) == (1, None)
    assert webhook.last_error.startswith("not delivered")
    assert webhook.due_at > clock.utcnow()
    assert queries.get_payment(result.payment_id).status == PaymentStatus.PROCESSING
