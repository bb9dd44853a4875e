"""The headless checkout with Stripe: ``complete`` answers ``requires_action`` with no
``next_action_url``; the client reads the card confirmation (Stripe.js's publishable key and the
payment's client secret), confirms at Stripe (the stand-in plays Stripe.js), then asks
``payment-confirmation``. Only the checkout's own cart may read it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts.models import Role
from tests.checkout.test_api import filled_guest_cart, start
from tests.factories.accounts import UserFactory
from tests.factories.inventory import stocked_variant
from tests.support.api import problem
from tests.support.api_carts import CHECKOUTS
from tests.support.stripe_standin import StripeStandIn, stripe_enabled

pytestmark = pytest.mark.story("US-67")
Bearer = Callable[..., dict[str, str]]


@pytest.fixture
def standin(app: Flask) -> Iterator[StripeStandIn]:
    with stripe_enabled(app) as running:
        yield running


def completed_with_stripe(client: FlaskClient) -> tuple[dict[str, Any], dict[str, str], Any]:
    cart_id, headers = filled_guest_cart(client, stocked_variant(2))
    checkout = start(client, cart_id, headers)
    response = client.post(
        f"{CHECKOUTS}/{checkout['id']}/complete",
        json={"payment_method": "stripe"},
        headers={**headers, "Idempotency-Key": "stripe-complete-0001"},
    )
    return checkout, headers, response


def test_a_headless_client_pays_with_stripe(client: FlaskClient, standin: StripeStandIn) -> None:
    # given a checkout completed with stripe
    checkout, headers, response = completed_with_stripe(client)
    body = response.get_json()
    assert (response.status_code, body["outcome"], body["next_action_url"]) == (
        200,
        "requires_action",
        None,
    )

    # when the client reads the card confirmation, and Stripe.js confirms with it
    confirmation = client.get(f"{CHECKOUTS}/{checkout['id']}/card-confirmation", headers=headers)
    [intent] = standin.intents.values()
    standin.confirm(intent["id"])
    confirmed = client.post(f"{CHECKOUTS}/{checkout['id']}/payment-confirmation", headers=headers)

    # then it had what Stripe.js needs, and the order is paid
    assert (confirmation.status_code, confirmation.headers["Cache-Control"]) == (200, "no-store")
    assert confirmation.get_json() == {
        "publishable_key": "pk_test_standin",
        "client_secret": intent["client_secret"],
        "script_url": "https://js.stripe.com/v3/",
        "amount": body["order"]["total"],
    }
    assert intent["amount"] == body["order"]["total"]["amount"]
    assert (confirmed.status_code, confirmed.get_json()["outcome"]) == (200, "paid")
    assert confirmed.get_json()["order"]["status"] == "paid"


def test_once_paid_there_is_no_card_to_confirm(client: FlaskClient, standin: StripeStandIn) -> None:
    checkout, headers, _ = completed_with_stripe(client)
    [intent] = standin.intents.values()
    standin.confirm(intent["id"])
    client.post(f"{CHECKOUTS}/{checkout['id']}/payment-confirmation", headers=headers)

    response = client.get(f"{CHECKOUTS}/{checkout['id']}/card-confirmation", headers=headers)

    problem(response, 409, "checkout_step_missing")


def test_a_checkout_paid_otherwise_has_no_card_to_confirm(
    client: FlaskClient, standin: StripeStandIn
) -> None:
    cart_id, headers = filled_guest_cart(client, stocked_variant(1))
    checkout = start(client, cart_id, headers)

    response = client.get(f"{CHECKOUTS}/{checkout['id']}/card-confirmation", headers=headers)

    problem(response, 409, "checkout_step_missing")


@pytest.mark.parametrize("caller", ["anonymous", "wrong_secret", "other_customer", "staff"])
def test_only_the_checkouts_cart_reads_its_card_confirmation(
    client: FlaskClient, standin: StripeStandIn, bearer: Bearer, caller: str
) -> None:
    checkout, _, _ = completed_with_stripe(client)
    sent = {
        "anonymous": {},
        "wrong_secret": {"Cart-Secret": "not-the-secret"},
        "other_customer": bearer(UserFactory()),
        "staff": bearer(UserFactory(role=Role.STAFF)),
    }[caller]

    response = client.get(f"{CHECKOUTS}/{checkout['id']}/card-confirmation", headers=sent)

    if caller in {"anonymous", "wrong_secret"}:
        code = "authentication_required" if caller == "anonymous" else "cart_secret_invalid"
        problem(response, 401, code)
    else:
        problem(response, 404, "checkout_not_found")
    assert "client_secret" not in response.get_data(as_text=True)
