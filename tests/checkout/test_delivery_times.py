"""Delivery time per shipping method: on the shipping step, in the review, in the API."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from funnel.checkout.pricing import PricingSettingsError, policy_from_settings
from tests.checkout.helpers import ADDRESS
from tests.checkout.test_api import filled_guest_cart, start
from tests.factories.inventory import stocked_variant

METHODS = "standard:Standard:4.99:3-5,express:Express:14.99:1,pickup:Pickup:0"


def to_shipping_step(buyer: FlaskClient) -> None:
    assert buyer.post("/checkout", data={"email": "guest@example.com"}).status_code == 303
    assert buyer.post("/checkout/address", data=ADDRESS).status_code == 303


@pytest.mark.story("US-20")
@pytest.mark.config(SHIPPING_METHODS=METHODS, FREE_SHIPPING_THRESHOLD="off")
def test_the_shipping_step_and_the_review_give_each_methods_delivery_time(
    buyer: FlaskClient, mug: Any
) -> None:
    to_shipping_step(buyer)

    # the shipping step gives each method its working days (none when the shop gives none)
    page = buyer.get("/checkout/shipping").get_data(as_text=True)
    assert (
        'Standard — $4.99 · <span class="delivery-time">delivered in 3-5 working days</span>'
    ) in page
    assert (
        'Express — $14.99 · <span class="delivery-time">delivered in 1 working day</span>'
    ) in page
    assert "Pickup — Free\n" in page

    # and the review repeats the chosen one's
    assert buyer.post("/checkout/shipping", data={"shipping_method": "standard"}).status_code == (
        303
    )
    review = buyer.get("/checkout/review").get_data(as_text=True)
    assert "<p>Standard · delivered in 3-5 working days · <a" in review


@pytest.mark.story("US-20")
@pytest.mark.config(SHIPPING_METHODS=METHODS)
def test_the_api_gives_each_methods_delivery_days(client: FlaskClient) -> None:
    items = client.get("/api/v1/shipping-methods").get_json()["items"]

    assert [
        (item["code"], item["min_delivery_days"], item["max_delivery_days"]) for item in items
    ] == [("standard", 3, 5), ("express", 1, 1), ("pickup", None, None)]


@pytest.mark.story("US-20")
@pytest.mark.config(SHIPPING_METHODS=METHODS)
def test_an_api_checkout_gives_its_methods_delivery_days(client: FlaskClient) -> None:
    variant = stocked_variant(1)
    cart_id, headers = filled_guest_cart(client, variant)

    checkout = start(client, cart_id, headers)

    assert checkout["shipping_method"] == {
        "code": "standard",
        "name": "Standard",
        "min_delivery_days": 3,
        "max_delivery_days": 5,
    }


@pytest.mark.parametrize("days", ["5-3", "x", "3-", "1-400", ""])
def test_a_malformed_delivery_time_stops_the_shop(days: str) -> None:
    with pytest.raises(PricingSettingsError, match="SHIPPING_METHODS"):
        policy_from_settings({"SHIPPING_METHODS": f"standard:Standard:4.99:{days}"})


def test_the_old_three_part_format_still_reads() -> None:
    [method] = policy_from_settings({"SHIPPING_METHODS": "standard:Standard:4.99"}).methods

    assert (method.min_days, method.max_days, method.delivery_time) == (None, None, "")
