"""The pay page: every test card the gateway knows, and the card fields a script may hide."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from funnel.payments.gateways.test.gateway import TEST_CARD_OUTCOMES, TEST_CARDS
from tests.checkout.helpers import go_to_pay
from tests.support.static import static_path

API_GUIDE = Path(__file__).parents[2] / "docs" / "api.md"
_SPACED_CARD = re.compile(r"\b4\d{3} \d{4} \d{4} \d{4}\b")


def test_the_gateway_describes_every_test_card_once() -> None:
    assert tuple(card.number for card in TEST_CARD_OUTCOMES) == TEST_CARDS


@pytest.mark.story("US-20")
def test_the_pay_page_lists_every_test_card_with_what_it_does(buyer: FlaskClient, mug: Any) -> None:
    go_to_pay(buyer)

    page = buyer.get("/checkout/pay").get_data(as_text=True)

    rows = re.findall(r"<tr><td>(4[\d ]+)</td><td>([^<]+)</td></tr>", page)
    assert rows == [
        ("4242 4242 4242 4242", "Succeeds"),
        ("4000 0000 0000 0002", "Is declined"),
        ("4000 0000 0000 9995", "Is declined for insufficient funds"),
        ("4000 0000 0000 3220", "Asks for 3-D Secure (approve or refuse)"),
        ("4000 0000 0000 0259", "Stays processing, then succeeds a few seconds later"),
        ("4000 0000 0000 0077", "Is charged, but the answer is lost (the request times out)"),
    ]


@pytest.mark.story("US-20")
@pytest.mark.config(PAYMENT_GATEWAYS="manual")
def test_without_the_test_gateway_no_test_card_is_listed(buyer: FlaskClient, mug: Any) -> None:
    go_to_pay(buyer)

    page = buyer.get("/checkout/pay").get_data(as_text=True)

    assert "4242" not in page
    assert 'id="card-fields"' not in page


def test_the_api_guide_names_every_test_card() -> None:
    named = set(_SPACED_CARD.findall(API_GUIDE.read_text(encoding="utf-8")))

    assert named == {card.spaced_number for card in TEST_CARD_OUTCOMES}


@pytest.mark.story("US-22")
@pytest.mark.config(PAYMENT_GATEWAYS="test,manual,cod")
def test_the_card_fields_say_which_methods_take_a_card_for_the_script(
    buyer: FlaskClient, mug: Any
) -> None:
    go_to_pay(buyer)

    page = buyer.get("/checkout/pay").get_data(as_text=True)

    assert '<fieldset id="card-fields" data-card-methods="test">' in page
    assert f'<script src="{static_path("js/pay-methods.js")}" defer></script>' in page
