"""US-02: verify my email address."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts import services
from funnel.accounts.models import User
from funnel.accounts.tokens import make_verification_token
from funnel.extensions import db
from tests.accounts.helpers import Clock, link_in
from tests.support.mailbox import Mailbox


def fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


@pytest.mark.story("US-02")
def test_following_the_emailed_link_and_confirming_verifies_the_account(
    app: Flask, mailbox: Mailbox
) -> None:
    # given a visitor registered (in this browser)
    browser = app.test_client()
    browser.post(
        "/account/register",
        data={
            "email": "ann@example.com",
            "password": "tulip-moon-42-river",
            "confirm_password": "tulip-moon-42-river",
        },
    )
    assert "Not verified yet" in browser.get("/account").text

    # when they open the link from the email, possibly in another browser, and confirm
    path = link_in(mailbox, mailbox[0])
    other_browser = app.test_client()
    page = other_browser.get(path)
    confirmed = other_browser.post(path)

    # then the account is verified (opening the link alone changed nothing: no state on GET)
    assert page.status_code == 200
    assert "Confirm my email address" in page.text
    assert confirmed.status_code == 200
    assert "Email address confirmed" in confirmed.text
    user = db.session.scalars(db.select(User)).one()
    assert user.is_email_verified is True
    assert user.email_verified_at is not None
    assert "Verified." in browser.get("/account").text


@pytest.mark.story("US-02")
def test_opening_the_link_does_not_verify(client: FlaskClient, customer: User) -> None:
    token = make_verification_token(customer.id, customer.email)

    response = client.get(f"/account/verify/{token}")

    assert response.status_code == 200
    assert fresh(customer).is_email_verified is False


@pytest.mark.story("US-02")
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_tampered_link_shows_a_clear_message_and_changes_nothing(
    client: FlaskClient, customer: User, method: str
) -> None:
    token = make_verification_token(customer.id, customer.email)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")

    response = client.open(f"/account/verify/{tampered}", method=method)

    assert response.status_code == 400
    assert "This link is invalid or has expired" in response.text
    assert fresh(customer).is_email_verified is False


@pytest.mark.story("US-02")
@pytest.mark.parametrize("token", ["unknown", "x" * 3000, "eyJ1c2VyIjoxfQ.AAAAAA.BBBBBB"])
def test_an_unknown_link_shows_a_clear_message(
    client: FlaskClient, customer: User, token: str
) -> None:
    response = client.post(f"/account/verify/{token}")

    assert response.status_code == 400
    assert "This link is invalid or has expired" in response.text
    assert fresh(customer).is_email_verified is False


@pytest.mark.story("US-02")
def test_a_link_for_another_address_of_the_account_is_refused(
    client: FlaskClient, customer: User
) -> None:
    token = make_verification_token(customer.id, "old-address@example.com")

    response = client.post(f"/account/verify/{token}")

    assert response.status_code == 400
    assert fresh(customer).is_email_verified is False


@pytest.mark.story("US-02")
def test_a_link_expires_after_7_days(
    client: FlaskClient, customer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    time = Clock(monkeypatch)
    token = make_verification_token(customer.id, customer.email)

    time.advance(days=7, seconds=1)
    response = client.post(f"/account/verify/{token}")

    assert response.status_code == 400
    assert fresh(customer).is_email_verified is False


@pytest.mark.story("US-02")
def test_an_unverified_customer_can_resend_the_email(
    customer: User, signed_in, mailbox: Mailbox
) -> None:
    browser = signed_in(customer)

    response = browser.post("/account/verify/resend")

    assert response.status_code == 302
    assert [message["To"] for message in mailbox] == ["customer@example.com"]
    assert browser.post(link_in(mailbox, mailbox[0])).status_code == 200
    assert fresh(customer).is_email_verified is True


def test_a_verified_customer_gets_no_new_email(
    staff_user: User, signed_in, mailbox: Mailbox
) -> None:
    browser = signed_in(staff_user)

    browser.post("/account/verify/resend")

    assert len(mailbox) == 0
    assert "Your email address is already verified." in browser.get("/account").text


def test_verifying_twice_is_harmless(app: Flask, customer: User) -> None:
    token = make_verification_token(customer.id, customer.email)

    first = services.verify_email(token)
    verified_at = fresh(first).email_verified_at
    services.verify_email(token)

    assert fresh(customer).email_verified_at == verified_at


@pytest.mark.story("US-02")
def test_an_unverified_customer_can_still_browse(customer: User, signed_in) -> None:
    browser = signed_in(customer)

    assert browser.get("/").status_code == 200
    assert browser.get("/account").status_code == 200
    assert browser.get("/account/addresses").status_code == 200
