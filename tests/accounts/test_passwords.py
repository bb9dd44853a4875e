"""US-04 reset a forgotten password; US-05 change my password."""

from __future__ import annotations

import importlib

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts import passwords, services
from funnel.accounts.models import ApiToken, PasswordResetToken, User, UserSession
from funnel.accounts.tokens import hash_token
from funnel.extensions import db
from tests.accounts.helpers import SESSION_COOKIE, Clock, link_in
from tests.factories.accounts import KNOWN_PASSWORD
from tests.support.mailbox import Mailbox

NEW_PASSWORD = "a brand new passphrase"
TOKENS = "/api/v1/auth/tokens"
ME = "/api/v1/me"


def reset_tokens() -> list[PasswordResetToken]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(PasswordResetToken).order_by(PasswordResetToken.id)))


def open_sessions(user: User) -> int:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    )


def password_hash_of(user: User) -> str:
    db.session.expire_all()
    return db.session.get(User, user.id).password_hash


def ask_for_reset(client: FlaskClient, email: str):
    return client.post("/account/password/forgot", data={"email": email})


def set_new_password(client: FlaskClient, path: str, password: str = NEW_PASSWORD):
    return client.post(path, data={"password": password, "confirm_password": password})


def api_token(client: FlaskClient, password: str = KNOWN_PASSWORD) -> dict[str, str]:
    """The Authorization header of a token the API creates for the customer's password."""
    response = client.post(
        TOKENS, json={"email": "customer@example.com", "password": password, "name": "script"}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def me_status(client: FlaskClient, headers: dict[str, str]) -> tuple[int, str | None]:
    """The status of ``GET /api/v1/me`` with ``headers``, and the problem's code if any."""
    response = client.get(ME, headers=headers)
    body = response.get_json()
    return response.status_code, body.get("code") if response.status_code != 200 else None


def live_tokens(user: User) -> int:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    )


# --- US-04 -----------------------------------------------------------------------------------


@pytest.mark.story("US-04")
def test_asking_for_a_reset_answers_the_same_whether_or_not_the_email_is_known(
    client: FlaskClient, customer: User, mailbox: Mailbox
) -> None:
    known = ask_for_reset(client, "customer@example.com")
    unknown = ask_for_reset(client, "nobody@example.com")

    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("customer@example.com", "nobody@example.com") == unknown.text
    assert [message["To"] for message in mailbox] == ["customer@example.com"]
    assert len(reset_tokens()) == 1


@pytest.mark.story("US-04")
def test_the_reset_link_sets_a_new_password_and_ends_every_session(
    app: Flask, client: FlaskClient, customer: User, mailbox: Mailbox, signed_in
) -> None:
    # given the customer is signed in on another device
    other_device = signed_in(customer)
    assert other_device.get("/account").status_code == 200

    # when they reset their password through the emailed link
    ask_for_reset(client, "Customer@Example.com")
    [message] = mailbox
    assert message["Subject"] == "Reset your Funnel password"
    path = link_in(mailbox, message)
    assert client.get(path).status_code == 200
    response = set_new_password(client, path)

    # then the new password works, the old one does not, and every session ended
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/sign-in"
    assert passwords.verify_password(password_hash_of(customer), NEW_PASSWORD)
    assert not passwords.verify_password(password_hash_of(customer), KNOWN_PASSWORD)
    assert open_sessions(customer) == 0
    assert other_device.get("/account").status_code == 302


@pytest.mark.story("US-04")
def test_a_password_reset_ends_every_api_token(
    client: FlaskClient, customer: User, mailbox: Mailbox
) -> None:
    # given two API tokens created with the old password, both working
    first = api_token(client)
    second = api_token(client)
    assert me_status(client, first) == me_status(client, second) == (200, None)

    # when the password is reset through the emailed link
    ask_for_reset(client, "customer@example.com")
    response = set_new_password(client, link_in(mailbox, mailbox[0]))

    # then neither token answers any more, and a token made with the new password does
    assert response.status_code == 302
    assert me_status(client, first) == (401, "token_invalid_or_expired")
    assert me_status(client, second) == (401, "token_invalid_or_expired")
    assert live_tokens(customer) == 0
    assert me_status(client, api_token(client, NEW_PASSWORD)) == (200, None)


@pytest.mark.story("US-04")
def test_only_a_hash_of_the_reset_token_is_stored(
    client: FlaskClient, customer: User, mailbox: Mailbox
) -> None:
    ask_for_reset(client, "customer@example.com")

    token = link_in(mailbox, mailbox[0]).rsplit("/", 1)[1]
    [stored] = reset_tokens()
    assert stored.token_hash == hash_token(token)
    assert token not in stored.token_hash


@pytest.mark.story("US-04")
def test_a_reset_link_works_once(client: FlaskClient, customer: User, mailbox: Mailbox) -> None:
    ask_for_reset(client, "customer@example.com")
    path = link_in(mailbox, mailbox[0])
    set_new_password(client, path)

    again_form = client.get(path)
    again = set_new_password(client, path, "yet another passphrase")

    assert again_form.status_code == again.status_code == 400
    assert "This link is invalid or has expired" in again.text
    assert passwords.verify_password(password_hash_of(customer), NEW_PASSWORD)


@pytest.mark.story("US-04")
def test_a_reset_link_expires_after_60_minutes(
    client: FlaskClient, customer: User, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    time = Clock(monkeypatch)
    ask_for_reset(client, "customer@example.com")
    path = link_in(mailbox, mailbox[0])
    assert "for 60 minutes" in mailbox.body(mailbox[0])

    time.advance(minutes=59, seconds=59)
    assert client.get(path).status_code == 200
    time.advance(seconds=1)
    response = set_new_password(client, path)

    assert response.status_code == 400
    assert "This link is invalid or has expired" in response.text
    assert password_hash_of(customer) != ""
    assert passwords.verify_password(password_hash_of(customer), KNOWN_PASSWORD)
    assert reset_tokens()[0].used_at is None


@pytest.mark.story("US-04")
@pytest.mark.parametrize("token", ["made-up-token", "x" * 5000, "%00%ff"])
def test_an_unknown_reset_token_is_refused(client: FlaskClient, customer: User, token: str) -> None:
    response = set_new_password(client, f"/account/password/reset/{token}")

    assert response.status_code == 400
    assert "This link is invalid or has expired" in response.text
    assert passwords.verify_password(password_hash_of(customer), KNOWN_PASSWORD)


@pytest.mark.story("US-04")
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "Use between 8 and 128 characters."),
        ("password1", "This password is too common."),
        (" " * 8, "Use at least one character other than spaces."),
    ],
)
def test_the_new_password_follows_the_registration_rules(
    client: FlaskClient, customer: User, mailbox: Mailbox, password: str, message: str
) -> None:
    ask_for_reset(client, "customer@example.com")
    path = link_in(mailbox, mailbox[0])

    response = set_new_password(client, path, password)

    assert response.status_code == 422
    assert message in response.text
    assert reset_tokens()[0].used_at is None
    assert passwords.verify_password(password_hash_of(customer), KNOWN_PASSWORD)


def test_a_malformed_email_is_shown_beside_the_field(client: FlaskClient, mailbox: Mailbox) -> None:
    response = ask_for_reset(client, "not an email")

    assert response.status_code == 422
    assert 'id="email-error"' in response.text
    assert len(mailbox) == 0


# --- US-05 -----------------------------------------------------------------------------------


def change_password(client: FlaskClient, current: str, new: str, confirm: str | None = None):
    return client.post(
        "/account/password",
        data={
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )


@pytest.mark.story("US-05")
def test_changing_the_password_ends_every_session_and_renews_the_current_one(
    app: Flask, customer: User, signed_in, mailbox: Mailbox
) -> None:
    # given two signed-in devices, one of whose cookie was copied
    browser = signed_in(customer)
    other_device = signed_in(customer)
    copied_cookie = browser.get_cookie(SESSION_COOKIE).value

    # when the password is changed in the browser
    response = change_password(browser, KNOWN_PASSWORD, NEW_PASSWORD)

    # then only the browser's fresh session is open; the old cookies are anonymous
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    assert browser.get("/account").status_code == 200
    assert open_sessions(customer) == 1
    assert other_device.get("/account").status_code == 302
    replay = app.test_client()
    replay.set_cookie(SESSION_COOKIE, copied_cookie)
    assert replay.get("/account").status_code == 302
    assert passwords.verify_password(password_hash_of(customer), NEW_PASSWORD)
    assert [message["Subject"] for message in mailbox] == ["Your Funnel password was changed"]


@pytest.mark.story("US-05")
def test_changing_the_password_ends_every_api_token_but_not_the_browser_making_it(
    client: FlaskClient, customer: User, signed_in
) -> None:
    # given a token created with the old password, and the customer signed in in a browser
    token = api_token(client)
    browser = signed_in(customer)
    assert me_status(client, token) == (200, None)

    # when the password is changed in the browser
    response = change_password(browser, KNOWN_PASSWORD, NEW_PASSWORD)

    # then the token no longer answers, the browser stays signed in, the new password works
    assert response.status_code == 302
    assert me_status(client, token) == (401, "token_invalid_or_expired")
    assert live_tokens(customer) == 0
    assert browser.get("/account").status_code == 200
    assert me_status(client, api_token(client, NEW_PASSWORD)) == (200, None)


@pytest.mark.story("US-05")
@pytest.mark.parametrize("service", ["api_tokens", "sessions"])
def test_a_credential_checked_just_before_a_password_change_is_not_created(
    client: FlaskClient, customer: User, signed_in, monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    # given the password is changed right after a token request or a sign-in checked the old
    # one (hashing takes long, outside the transaction: a real race)
    browser = signed_in(customer)
    module = importlib.import_module(f"funnel.accounts.services.{service}")
    check_credentials = module.check_credentials

    def check_then_change(email: str, password: str):
        checked = check_credentials(email, password)
        services.change_password(customer.id, KNOWN_PASSWORD, NEW_PASSWORD)
        return checked

    monkeypatch.setattr(module, "check_credentials", check_then_change)

    # when the token request or the sign-in goes on with the old password
    if service == "api_tokens":
        response = client.post(
            TOKENS, json={"email": "customer@example.com", "password": KNOWN_PASSWORD}
        )
        expected = 401
    else:
        response = client.post(
            "/account/sign-in", data={"email": "customer@example.com", "password": KNOWN_PASSWORD}
        )
        expected = 422

    # then it is refused as a wrong password, and nothing made with the old password lives
    assert response.status_code == expected
    assert live_tokens(customer) == 0
    assert open_sessions(customer) == 1  # the one change_password started
    assert browser.get("/account").status_code == 302


@pytest.mark.story("US-05")
def test_a_wrong_current_password_changes_nothing(
    client: FlaskClient, customer: User, signed_in
) -> None:
    browser = signed_in(customer)
    other_device = signed_in(customer)
    token = api_token(client)
    hash_before = password_hash_of(customer)

    response = change_password(browser, "not my password", NEW_PASSWORD)

    assert response.status_code == 422
    assert "Your current password is incorrect" in response.text
    assert password_hash_of(customer) == hash_before
    assert open_sessions(customer) == 2
    assert other_device.get("/account").status_code == 200
    assert me_status(client, token) == (200, None)


@pytest.mark.story("US-05")
@pytest.mark.parametrize(
    ("new", "confirm", "field", "message"),
    [
        ("short", None, "new_password", "Use between 8 and 128 characters."),
        ("x" * 129, None, "new_password", "Use between 8 and 128 characters."),
        ("qwerty123", None, "new_password", "This password is too common."),
        (" " * 8, None, "new_password", "Use at least one character other than spaces."),
        (NEW_PASSWORD, "something else", "confirm_password", "The two passwords do not match."),
    ],
)
def test_the_new_password_follows_the_rules(
    customer: User, signed_in, new: str, confirm: str | None, field: str, message: str
) -> None:
    browser = signed_in(customer)

    response = change_password(browser, KNOWN_PASSWORD, new, confirm)

    assert response.status_code == 422
    assert f'<small id="{field}-error" class="field-error">{message}' in response.text
    assert passwords.verify_password(password_hash_of(customer), KNOWN_PASSWORD)
    assert open_sessions(customer) == 1


def test_changing_the_password_needs_a_signed_in_user(client: FlaskClient) -> None:
    response = change_password(client, KNOWN_PASSWORD, NEW_PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/sign-in?next=%2Faccount%2Fpassword"
