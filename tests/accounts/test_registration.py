"""US-01: register an account."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts import services
from funnel.accounts.errors import EmailTaken, InvalidEmail, PasswordRejected
from funnel.accounts.models import Role, User
from funnel.extensions import db
from tests.factories.accounts import UserFactory
from tests.support.mailbox import Mailbox

GOOD_PASSWORD = "tulip-moon-42-river"


def register(client: FlaskClient, email: str, password: str, confirm: str | None = None):
    return client.post(
        "/account/register",
        data={
            "email": email,
            "password": password,
            "confirm_password": password if confirm is None else confirm,
        },
    )


def user_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


@pytest.mark.story("US-01")
def test_registering_creates_a_signed_in_customer_with_a_normalised_email(
    client: FlaskClient, mailbox: Mailbox
) -> None:
    response = register(client, "  Ann.Smith@Example.COM ", GOOD_PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    user = db.session.scalars(sa.select(User)).one()
    assert user.email == "ann.smith@example.com"
    assert user.role == Role.CUSTOMER
    assert user.is_email_verified is False
    page = client.get("/account")
    assert page.status_code == 200
    assert "ann.smith@example.com" in page.text


@pytest.mark.story("US-01")
def test_password_is_stored_only_as_an_argon2id_hash(client: FlaskClient, mailbox: Mailbox) -> None:
    register(client, "ann@example.com", GOOD_PASSWORD)

    user = db.session.scalars(sa.select(User)).one()
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD_PASSWORD not in user.password_hash
    assert all(GOOD_PASSWORD not in mailbox.body(message) for message in mailbox)


@pytest.mark.story("US-01")
def test_registering_sends_a_verification_email(client: FlaskClient, mailbox: Mailbox) -> None:
    register(client, "ann@example.com", GOOD_PASSWORD)

    assert [message["To"] for message in mailbox] == ["ann@example.com"]
    assert mailbox[0]["Subject"] == "Confirm your email address for Funnel"
    assert re.search(r"http://127\.0\.0\.1:5000/account/verify/\S+", mailbox.body(mailbox[0]))


@pytest.mark.story("US-01")
def test_an_email_differing_only_in_case_is_refused(client: FlaskClient, mailbox: Mailbox) -> None:
    UserFactory(email="ann@example.com")

    response = register(client, "Ann@Example.com", GOOD_PASSWORD)

    assert response.status_code == 422
    assert "An account with this email already exists" in response.text
    assert user_count() == 1
    assert len(mailbox) == 0


@pytest.mark.story("US-01")
@pytest.mark.parametrize(
    "password",
    [
        "8 chars!",
        "éàüöçñøß",
        "🦊🦊🦊🦊🦊🦊🦊🦊",
        "spaces  in  it   ",
        "x" * 128,
    ],
    ids=["ascii-8", "accents-8", "emoji-8", "spaces", "128"],
)
def test_passwords_of_8_to_128_characters_of_any_kind_are_accepted(
    app: Flask, password: str
) -> None:
    user = services.create_user("ann@example.com", password)

    assert user.id is not None
    assert services.sign_in("ann@example.com", password).user.id == user.id


@pytest.mark.story("US-01")
@pytest.mark.parametrize("password", ["7 chars", "🦊" * 7, "x" * 129], ids=["7", "emoji-7", "129"])
def test_passwords_outside_8_to_128_characters_are_refused_with_the_limits(
    client: FlaskClient, password: str
) -> None:
    response = register(client, "ann@example.com", password)

    assert response.status_code == 422
    assert "Use between 8 and 128 characters." in response.text
    assert user_count() == 0


@pytest.mark.story("US-01")
@pytest.mark.parametrize(
    "password", [" " * 8, "\u00a0" * 12, "\t" * 9], ids=["spaces", "nbsp", "tabs"]
)
def test_a_password_of_spaces_alone_is_refused(client: FlaskClient, password: str) -> None:
    response = register(client, "ann@example.com", password)

    assert response.status_code == 422
    assert "Use at least one character other than spaces." in response.text
    assert user_count() == 0


@pytest.mark.story("US-01")
@pytest.mark.parametrize("password", ["password1", "PASSWORD1", "Iloveyou1", "qwertyuiop"])
def test_common_passwords_are_refused_case_insensitively(
    client: FlaskClient, password: str
) -> None:
    response = register(client, "ann@example.com", password)

    assert response.status_code == 422
    assert "This password is too common." in response.text
    assert user_count() == 0


@pytest.mark.story("US-01")
def test_mismatched_confirmation_is_refused(client: FlaskClient) -> None:
    response = register(client, "ann@example.com", GOOD_PASSWORD, confirm="something-else-9")

    assert response.status_code == 422
    assert "The two passwords do not match." in response.text
    assert user_count() == 0


@pytest.mark.story("US-01")
@pytest.mark.parametrize(
    "email",
    ["not-an-email", "ann@", "@example.com", "ann@exa mple.com", "ann\x00@example.com"],
)
def test_malformed_emails_are_refused_beside_the_field(client: FlaskClient, email: str) -> None:
    response = register(client, email, GOOD_PASSWORD)

    assert response.status_code == 422
    assert 'id="email-error"' in response.text
    assert user_count() == 0


@pytest.mark.story("US-01")
@pytest.mark.parametrize(
    "data",
    [
        {},
        {"email": "ann@example.com"},
        {"email": "a" * 10_000 + "@example.com", "password": "x", "confirm_password": "x"},
        {"email": "ann@example.com", "password": "p" * 100_000, "confirm_password": "p" * 100_000},
        b"email=%FF%FE%40example.com&password=%C0%AF%ED%A0%80abcdefgh&confirm_password=%C0%AF",
    ],
    ids=["empty", "no-password", "overlong-email", "overlong-password", "bad-unicode"],
)
def test_bad_input_is_a_422_not_a_500(client: FlaskClient, data: dict[str, str] | bytes) -> None:
    response = client.post(
        "/account/register", data=data, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 422
    assert user_count() == 0


def test_register_form_has_the_labels_and_button_the_browser_tests_use(
    client: FlaskClient,
) -> None:
    page = client.get("/account/register").text

    assert '<label for="email">Email</label>' in page
    assert '<label for="password">Password</label>' in page
    assert '<label for="confirm_password">Confirm password</label>' in page
    assert '<button type="submit">Create account</button>' in page


@pytest.mark.story("US-12")
def test_create_user_gives_the_requested_role_and_verification(app: Flask) -> None:
    user = services.create_user(
        "Staff@Example.com", GOOD_PASSWORD, role=Role.STAFF, is_email_verified=True
    )

    assert (user.email, user.role, user.is_email_verified) == (
        "staff@example.com",
        Role.STAFF,
        True,
    )
    assert user.email_verified_at is not None
    assert user.is_staff is True
    assert user.is_admin is False


def test_create_user_raises_stable_coded_errors(app: Flask) -> None:
    UserFactory(email="ann@example.com")

    with pytest.raises(EmailTaken) as taken:
        services.create_user("ANN@example.com", GOOD_PASSWORD)
    with pytest.raises(PasswordRejected) as rejected:
        services.create_user("bob@example.com", "password")
    with pytest.raises(InvalidEmail) as invalid:
        services.create_user("bob", GOOD_PASSWORD)

    assert (taken.value.code, taken.value.status) == ("email_taken", 409)
    assert (rejected.value.code, rejected.value.status) == ("password_rejected", 422)
    assert (invalid.value.code, invalid.value.status) == ("email_invalid", 422)
    assert user_count() == 1
