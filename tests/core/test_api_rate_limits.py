"""Rate limits on the API say where a client stands: ``RateLimit`` / ``RateLimit-Policy`` on
every answer of a limited operation, ``Retry-After`` on a 429; checkout is limited per
credential (a token, a cart's secret), so one client's retries do not use another's."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from funnel.checkout.limits import CHECKOUT_PER_CREDENTIAL
from tests.support.api import problem
from tests.support.api_carts import guest_cart

pytestmark = [pytest.mark.story("US-42"), pytest.mark.config(RATELIMIT_ENABLED=True)]
PER_CREDENTIAL = int(CHECKOUT_PER_CREDENTIAL.split("/")[0])
CHECKOUT_BODY = {
    "email": "ann@example.com",
    "shipping_address": {
        "full_name": "Ann Smith",
        "line1": "1 High Street",
        "city": "Bristol",
        "postal_code": "BS1 4DJ",
        "country_code": "GB",
    },
    "shipping_method": "standard",
}


def test_a_limited_operation_says_how_many_calls_are_left(client: FlaskClient) -> None:
    wrong = {"email": "a@example.com", "password": "not the password"}
    first = client.post("/api/v1/auth/tokens", json=wrong)
    second = client.post("/api/v1/auth/tokens", json=wrong)

    policy = re.fullmatch(r'"([a-z0-9_.:-]+)";q=(\d+);w=(\d+)', first.headers["RateLimit-Policy"])
    assert policy is not None
    name, quota, window = policy.group(1), int(policy.group(2)), int(policy.group(3))
    assert (quota, window) == (5, 60)  # failures per email: the closest to its end
    left_first = re.fullmatch(rf'"{name}";r=(\d+);t=(\d+)', first.headers["RateLimit"])
    left_second = re.fullmatch(rf'"{name}";r=(\d+);t=(\d+)', second.headers["RateLimit"])
    assert left_first is not None
    assert left_second is not None
    assert int(left_first.group(1)) == quota - 1
    assert int(left_second.group(1)) == quota - 2
    assert 0 <= int(left_second.group(2)) <= window


def test_an_operation_without_a_limit_sends_no_limit_headers(client: FlaskClient) -> None:
    response = client.get("/api/v1/categories")

    assert response.status_code == 200
    assert "RateLimit" not in response.headers
    assert "RateLimit-Policy" not in response.headers


def test_checkout_is_limited_per_credential_with_retry_after(client: FlaskClient) -> None:
    cart_id, headers = guest_cart(client)
    other_id, other_headers = guest_cart(client)
    body = CHECKOUT_BODY | {"cart_id": cart_id}

    statuses = [
        client.post("/api/v1/checkouts", json=body, headers=headers).status_code
        for _ in range(PER_CREDENTIAL)
    ]
    refused = client.post("/api/v1/checkouts", json=body, headers=headers)
    other = client.post(
        "/api/v1/checkouts", json=CHECKOUT_BODY | {"cart_id": other_id}, headers=other_headers
    )

    assert statuses == [409] * PER_CREDENTIAL  # empty carts: refused, but counted
    problem(refused, 429, "too_many_requests")
    assert int(refused.headers["Retry-After"]) >= 1
    assert re.fullmatch(r'"[a-z0-9_.:-]+";r=0;t=\d+', refused.headers["RateLimit"])
    problem(other, 409, "cart_empty")  # another cart's secret has its own allowance
