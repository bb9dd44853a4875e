"""US-07: be protected from abuse (rate limits, CSRF, no state change on GET, headers)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts.models import Address, User, UserSession
from funnel.extensions import db
from tests.factories.accounts import KNOWN_PASSWORD, AddressFactory
from tests.support.mailbox import Mailbox


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def from_ip(address: str) -> dict[str, dict[str, str]]:
    return {"environ_base": {"REMOTE_ADDR": address}}


@pytest.mark.story("US-07")
@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_sign_in_is_limited_to_10_attempts_a_minute_per_client(
    client: FlaskClient, customer: User
) -> None:
    statuses = [
        client.post(
            "/account/sign-in",
            data={"email": f"guess{attempt}@example.com", "password": "wrong password"},
        ).status_code
        for attempt in range(11)
    ]

    assert statuses == [422] * 10 + [429]
    refused = client.post(
        "/account/sign-in", data={"email": "customer@example.com", "password": KNOWN_PASSWORD}
    )
    assert refused.status_code == 429
    assert count(UserSession) == 0
    # another client is not affected
    other = client.post(
        "/account/sign-in",
        data={"email": "customer@example.com", "password": KNOWN_PASSWORD},
        **from_ip("192.0.2.7"),
    )
    assert other.status_code == 302


@pytest.mark.story("US-07")
@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_sign_in_is_limited_to_5_failures_a_minute_per_email(
    client: FlaskClient, customer: User
) -> None:
    statuses = [
        client.post(
            "/account/sign-in",
            data={"email": "Customer@example.com", "password": f"guess number {attempt}"},
            **from_ip(f"198.51.100.{attempt}"),
        ).status_code
        for attempt in range(6)
    ]

    assert statuses == [422] * 5 + [429]


@pytest.mark.story("US-07")
@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_the_429_page_says_to_wait_and_carries_retry_after(client: FlaskClient) -> None:
    for _ in range(10):
        client.post("/account/sign-in", data={"email": "a@example.com", "password": "x"})

    response = client.post("/account/sign-in", data={"email": "a@example.com", "password": "x"})

    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 60
    # the page and the header are computed a moment apart: they may straddle a second
    [said] = re.findall(r"Please try again in (\d+) seconds\.", response.text)
    assert int(said) in {retry_after, retry_after + 1}


def register_from(client: FlaskClient, email: str, password: str = "tulip-moon-42-river") -> int:
    fresh_client = client.application.test_client()  # signed out for each registration
    return fresh_client.post(
        "/account/register",
        data={"email": email, "password": password, "confirm_password": password},
    ).status_code


@pytest.mark.story("US-07")
@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_registration_is_limited_to_5_accounts_in_15_minutes_per_client(
    client: FlaskClient, mailbox: Mailbox
) -> None:
    statuses = [register_from(client, f"person{attempt}@example.com") for attempt in range(6)]

    assert statuses == [302] * 5 + [429]
    assert count(User) == 5
    refused = client.application.test_client().post(
        "/account/register",
        data={
            "email": "late@example.com",
            "password": "tulip-moon-42-river",
            "confirm_password": "tulip-moon-42-river",
        },
    )
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 14 * 60 < retry_after <= 15 * 60
    assert "Too many attempts in a short time. Please try again in about 15 minutes." in (
        refused.text
    )


@pytest.mark.story("US-07")
@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_registration_attempts_with_errors_do_not_count_towards_the_limit(
    client: FlaskClient, mailbox: Mailbox
) -> None:
    mistakes = [register_from(client, f"typo{attempt}@example", "short") for attempt in range(8)]

    registered = [register_from(client, f"person{attempt}@example.com") for attempt in range(5)]

    assert mistakes == [422] * 8
    assert registered == [302] * 5
    assert count(User) == 5


@pytest.mark.story("US-07")
@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_the_api_registration_limit_is_a_problem_with_retry_after(client: FlaskClient) -> None:
    password = "a long enough passphrase"
    created = [
        client.post(
            "/api/v1/auth/register",
            json={"email": f"api{number}@example.com", "password": password},
        ).status_code
        for number in range(5)
    ]

    refused = client.post(
        "/api/v1/auth/register", json={"email": "api5@example.com", "password": password}
    )

    assert created == [201] * 5
    assert refused.status_code == 429
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json["code"] == "too_many_requests"
    assert 14 * 60 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert count(User) == 5


@pytest.mark.story("US-07")
@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_password_reset_requests_are_limited_to_5_an_hour_per_client(
    client: FlaskClient, customer: User, mailbox: Mailbox
) -> None:
    statuses = [
        client.post("/account/password/forgot", data={"email": "customer@example.com"}).status_code
        for _ in range(6)
    ]

    assert statuses == [200] * 5 + [429]
    assert len(mailbox) == 5


@pytest.mark.story("US-07")
@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_showing_the_forms_is_not_rate_limited(client: FlaskClient) -> None:
    statuses = {client.get("/account/sign-in").status_code for _ in range(15)}

    assert statuses == {200}


@pytest.mark.story("US-07")
@pytest.mark.config(WTF_CSRF_ENABLED=True)
@pytest.mark.parametrize(
    ("path", "data"),
    [
        (
            "/account/register",
            {
                "email": "ann@example.com",
                "password": "tulip-moon-42-river",
                "confirm_password": "tulip-moon-42-river",
            },
        ),
        ("/account/sign-in", {"email": "customer@example.com", "password": KNOWN_PASSWORD}),
        ("/account/password/forgot", {"email": "customer@example.com"}),
    ],
)
def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    client: FlaskClient, customer: User, mailbox: Mailbox, path: str, data: dict[str, str]
) -> None:
    response = client.post(path, data=data)

    assert response.status_code == 400
    assert "The CSRF token is missing." in response.text
    assert count(User) == 1
    assert count(UserSession) == 0
    assert len(mailbox) == 0


@pytest.mark.story("US-07")
@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_signed_in_posts_need_the_csrf_token_too(customer: User, signed_in) -> None:
    address = AddressFactory(user_id=customer.id)
    browser = signed_in(customer)

    deleted = browser.post(f"/account/addresses/{address.id}/delete")
    signed_out = browser.post("/account/sign-out")

    assert deleted.status_code == signed_out.status_code == 400
    assert count(Address) == 1
    assert browser.get("/account").status_code == 200


@pytest.mark.story("US-07")
@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_a_post_with_the_csrf_token_from_the_form_works(
    client: FlaskClient, customer: User
) -> None:
    page = client.get("/account/sign-in").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    response = client.post(
        "/account/sign-in",
        data={"email": "customer@example.com", "password": KNOWN_PASSWORD, "csrf_token": token},
    )

    assert response.status_code == 302


@pytest.mark.story("US-07")
def test_every_account_page_carries_the_security_headers(customer: User, signed_in) -> None:
    browser = signed_in(customer)

    for path in ["/account", "/account/addresses", "/account/password", "/account/sign-in"]:
        headers = browser.get(path).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.story("US-07")
def test_account_pages_have_no_inline_script(customer: User, signed_in, app: Flask) -> None:
    browser = signed_in(customer)

    for path in ["/account", "/account/addresses", "/account/addresses/new"]:
        html = browser.get(path).text
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
        assert " onclick=" not in html
