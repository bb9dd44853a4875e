"""The test gateway's simulated 3-D Secure page, and the confirm path racing the webhook."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel.payments import queries, services
from funnel.payments.gateways.base import OutcomeStatus
from funnel.payments.gateways.test import sandbox
from funnel.payments.models import PaymentStatus
from tests.factories.payments import paid_payment
from tests.payments.helpers import signed_event_for, status_changes

pytestmark = [pytest.mark.story("US-21"), pytest.mark.story("US-45")]
CARD_3DS = "4000 0000 0000 3220"


def challenge_path(url: str) -> str:
    return urlsplit(url).path


def test_a_3ds_card_requires_action_and_get_changes_nothing(
    payments_client: FlaskClient,
) -> None:
    # given a payment with the 3-D Secure card
    result = paid_payment(4200, CARD_3DS, return_url="/checkout/return?order=ORD-1")
    assert (result.status, result.requires_action) == (PaymentStatus.REQUIRES_ACTION, True)
    assert result.message == "Your bank asks you to confirm this payment."
    assert result.next_action_url is not None

    # when the customer opens the bank's page (twice)
    for _ in range(2):
        page = payments_client.get(challenge_path(result.next_action_url))

        # then it shows the amount, the card and the two choices, and changes nothing
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "$42.00" in html
        assert "Visa ending in 3220" in html
        assert 'value="approve">Approve</button>' in html
        assert 'value="refuse" class="secondary">Refuse</button>' in html
        assert page.headers["Cache-Control"] == "no-store"
    payment = queries.get_payment(result.payment_id)
    assert payment.status == PaymentStatus.REQUIRES_ACTION
    charge = sandbox.charge_by_id(payment.gateway_payment_id)
    assert charge.status == OutcomeStatus.REQUIRES_ACTION.value
    assert sandbox.webhooks_for(payment.gateway_payment_id) == []


def test_approving_sends_the_customer_back_and_confirm_completes_the_payment(
    payments_client: FlaskClient,
) -> None:
    result = paid_payment(4200, CARD_3DS, return_url="/checkout/return?order=ORD-1")

    # when the customer approves
    response = payments_client.post(
        challenge_path(result.next_action_url), data={"decision": "approve"}
    )

    # then they are sent back to the return URL, with the gateway's payment id
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/checkout/return"
    payment = queries.get_payment(result.payment_id)
    assert parse_qs(location.query) == {
        "order": ["ORD-1"],
        "gateway_payment_id": [payment.gateway_payment_id],
    }

    # and when checkout confirms at the return URL, the payment succeeds once
    confirmed = services.confirm_payment_action(result.payment_id)
    again = services.confirm_payment_action(result.payment_id)
    assert (confirmed.status, confirmed.changed) == (PaymentStatus.SUCCEEDED, True)
    assert (again.status, again.changed) == (PaymentStatus.SUCCEEDED, False)
    assert status_changes(result.payment_id) == [
        (None, "pending"),
        ("pending", "requires_action"),
        ("requires_action", "succeeded"),
    ]
    # and the gateway owes the shop a webhook saying so
    [webhook] = sandbox.webhooks_for(payment.gateway_payment_id)
    assert webhook.type == "payment.succeeded"


def test_refusing_fails_the_payment_with_a_readable_reason(payments_client: FlaskClient) -> None:
    result = paid_payment(4200, CARD_3DS)

    response = payments_client.post(
        challenge_path(result.next_action_url), data={"decision": "refuse"}
    )
    # a second decision changes nothing
    payments_client.post(challenge_path(result.next_action_url), data={"decision": "approve"})
    confirmed = services.confirm_payment_action(result.payment_id)

    assert response.status_code == 303
    assert (confirmed.status, confirmed.failure_code, confirmed.message) == (
        PaymentStatus.FAILED,
        "authentication_failed",
        "The card check with your bank was not completed.",
    )
    assert queries.live_payment_for(result.payable_reference) is None


def test_confirming_before_the_customer_decides_changes_nothing(payments_app: Flask) -> None:
    result = paid_payment(4200, CARD_3DS)

    confirmed = services.confirm_payment_action(result.payment_id)

    assert (confirmed.status, confirmed.changed) == (PaymentStatus.REQUIRES_ACTION, False)
    assert confirmed.next_action_url == result.next_action_url


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_a_decision_without_the_csrf_token_is_refused(payments_client: FlaskClient) -> None:
    result = paid_payment(4200, CARD_3DS)

    response = payments_client.post(
        challenge_path(result.next_action_url), data={"decision": "approve"}
    )

    assert response.status_code == 400
    payment = queries.get_payment(result.payment_id)
    assert sandbox.charge_by_id(payment.gateway_payment_id).status == "requires_action"


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_the_page_form_carries_the_csrf_token_and_it_is_accepted(
    payments_client: FlaskClient,
) -> None:
    result = paid_payment(4200, CARD_3DS)
    html = payments_client.get(challenge_path(result.next_action_url)).get_data(as_text=True)
    token = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    response = payments_client.post(
        challenge_path(result.next_action_url), data={"decision": "approve", "csrf_token": token}
    )

    assert response.status_code == 303


@pytest.mark.parametrize(
    ("method", "path", "data", "status"),
    [
        ("get", "/payments/test/challenge/not-a-token", None, 404),
        ("post", "/payments/test/challenge/not-a-token", {"decision": "approve"}, 404),
        ("post", "/payments/test/challenge/{token}", {"decision": "maybe"}, 400),
        ("post", "/payments/test/challenge/{token}", {}, 400),
    ],
)
def test_bad_requests_to_the_page_are_clear_4xx(
    payments_client: FlaskClient, method: str, path: str, data: dict | None, status: int
) -> None:
    result = paid_payment(4200, CARD_3DS)
    token = challenge_path(result.next_action_url).rsplit("/", 1)[1]

    response = getattr(payments_client, method)(path.format(token=token), data=data)

    assert response.status_code == status
    assert queries.get_payment(result.payment_id).status == PaymentStatus.REQUIRES_ACTION


@pytest.mark.config(PAYMENT_GATEWAYS="manual")
def test_the_page_does_not_exist_without_the_test_gateway(payments_client: FlaskClient) -> None:
    assert payments_client.get("/payments/test/challenge/anything").status_code == 404


@pytest.mark.story("US-36")
def test_the_confirm_path_and_the_webhook_racing_make_one_change(
    payments_client: FlaskClient, in_threads
) -> None:
    # given an approved 3-D Secure payment: the customer is coming back, the webhook is coming
    result = paid_payment(4200, CARD_3DS)
    payments_client.post(challenge_path(result.next_action_url), data={"decision": "approve"})
    body, headers = signed_event_for(result.payment_id)

    # when both arrive at once, several times over
    outcomes = in_threads(
        lambda: services.confirm_payment_action(result.payment_id),
        lambda: services.apply_gateway_webhook("test", body, headers),
        lambda: services.confirm_payment_action(result.payment_id),
        lambda: services.apply_gateway_webhook("test", body, headers),
    )

    # then the payment changed exactly once
    assert [type(outcome).__name__ for outcome in outcomes].count("PaymentResult") >= 3
    changed = [outcome for outcome in outcomes if outcome is not None and outcome.changed]
    assert len(changed) == 1
    assert queries.get_payment(result.payment_id).status == PaymentStatus.SUCCEEDED
    assert status_changes(result.payment_id)[-1] == ("requires_action", "succeeded")
    assert len(status_changes(result.payment_id)) == 3
    assert [t.kind.value for t in queries.payment_transactions(result.payment_id)] == ["charge"]
