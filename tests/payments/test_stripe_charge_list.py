"""The stripe gateway lists the charges of a window (succeeded PaymentIntents, newest first),
page by page as Stripe's list API answers, for reconciliation (US-69)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from funnel.core.money import Money
from funnel.payments.errors import GatewayUnavailable
from funnel.payments.gateways import stripe as stripe_gateway
from funnel.payments.gateways.base import PaymentRequest
from funnel.payments.gateways.stripe import StripeGateway
from tests.support.stripe_standin import API_KEY, StripeStandIn, stripe_enabled

pytestmark = pytest.mark.story("US-69")


@pytest.fixture
def standin(app: Flask) -> Iterator[StripeStandIn]:
    with stripe_enabled(app) as running:
        yield running


def gateway(standin: StripeStandIn) -> StripeGateway:
    return StripeGateway(API_KEY, "whsec_unused", api_base=standin.url, network_retries=0)


def intent(standin: StripeStandIn, number: int, amount: int = 1000) -> str:
    outcome = gateway(standin).create_payment(
        PaymentRequest(
            amount=Money(amount, "EUR"),
            idempotency_key=f"list-key-{number:04d}",
            description="",
            return_url="",
            metadata={"payment_public_id": f"pay_{number}"},
        )
    )
    return outcome.gateway_payment_id


def test_the_succeeded_intents_of_the_window_are_listed_page_by_page(
    app: Flask, standin: StripeStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given five intents: four succeeded (one of them three days ago), one never paid
    monkeypatch.setattr(stripe_gateway, "PAGE_SIZE", 2)
    ids = [intent(standin, number, amount=1000 + number) for number in range(1, 6)]
    for number, intent_id in enumerate(ids[:4], start=1):
        standin.backdate(intent_id, 600 - number)  # created one second apart, in order
        standin.confirm(intent_id)
    standin.backdate(ids[0], 3 * 24 * 3600)
    standin.backdate(ids[4], 60)
    since = datetime.now(UTC) - timedelta(hours=48)

    # when the charges since two days ago are listed, two intents a page
    charges = gateway(standin).list_charges(since)

    # then the three succeeded in the window, newest first, with what each took (the first
    # page held the unpaid intent and the newest charge)
    assert [(c.gateway_payment_id, c.amount, c.payment_public_id) for c in charges] == [
        (ids[3], Money(1004, "EUR"), "pay_4"),
        (ids[2], Money(1003, "EUR"), "pay_3"),
        (ids[1], Money(1002, "EUR"), "pay_2"),
    ]
    assert [c.refunded for c in charges] == [Money(0, "EUR")] * 3
    lists = [r for r in standin.requests if r.method == "GET"]
    assert [r.path for r in lists] == ["/v1/payment_intents"] * 2
    assert [r.params for r in lists] == [
        {"created[gte]": str(int(since.timestamp())), "limit": "2"},
        {"created[gte]": str(int(since.timestamp())), "limit": "2", "starting_after": ids[3]},
    ]


def test_an_empty_window_lists_nothing_in_one_request(app: Flask, standin: StripeStandIn) -> None:
    charges = gateway(standin).list_charges(datetime.now(UTC) - timedelta(hours=1))

    assert charges == []
    assert [r.path for r in standin.requests] == ["/v1/payment_intents"]


def test_stripe_unreachable_while_listing_is_gateway_unavailable(
    app: Flask, standin: StripeStandIn
) -> None:
    standin.fail_next("server_error")

    with pytest.raises(GatewayUnavailable):
        gateway(standin).list_charges(datetime.now(UTC) - timedelta(hours=48))
