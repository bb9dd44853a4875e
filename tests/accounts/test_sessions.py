"""US-03: sign in and sign out, on server-side sessions with idle and absolute timeouts."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from funnel import create_app
from funnel.accounts import passwords, services
from funnel.accounts.access import SESSION_TOKEN_KEY
from funnel.accounts.errors import InvalidCredentials
from funnel.accounts.models import User, UserSession
from funnel.extensions import db
from tests.accounts.helpers import SESSION_COOKIE, Clock
from tests.factories.accounts import KNOWN_PASSWORD, UserFactory
from tests.support.production import production_environment

COOKIE = SESSION_COOKIE


def sign_in(client: FlaskClient, email: str, password: str, next_url: str | None = None):
    url = "/account/sign-in" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password})


def is_signed_in(client: FlaskClient) -> bool:
    response = client.get("/account")
    return response.status_code == 200


def sessions_of(user: User) -> list[UserSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
        )
    )


@pytest.mark.story("US-03")
def test_signing_in_with_the_email_in_any_case_starts_a_session(
    client: FlaskClient, customer: User
) -> None:
    response = sign_in(client, "  CUSTOMER@Example.com", KNOWN_PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    assert is_signed_in(client)
    [row] = sessions_of(customer)
    assert row.ended_at is None
    assert row.user_agent is not None
    assert row.ip == "127.0.0.1"
    assert len(row.token_hash) == 64


@pytest.mark.story("US-03")
def test_wrong_password_and_unknown_email_give_the_same_answer(
    client: FlaskClient, customer: User
) -> None:
    wrong_password = sign_in(client, "customer@example.com", "not the password at all")
    unknown_email = sign_in(client, "nobody@example.com", KNOWN_PASSWORD)

    assert wrong_password.status_code == unknown_email.status_code == 422
    assert "Email or password is incorrect" in wrong_password.text
    assert wrong_password.text.replace("customer@example.com", "nobody@example.com") == (
        unknown_email.text
    )
    assert sessions_of(customer) == []
    assert not is_signed_in(client)


def test_unknown_email_still_spends_a_hash_verification(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(passwords, "spend_verification_time", lambda: calls.append("spent"))

    with pytest.raises(InvalidCredentials):
        services.sign_in("nobody@example.com", KNOWN_PASSWORD)

    assert calls == ["spent"]


@pytest.mark.story("US-03")
def test_the_session_cookie_changes_at_sign_in_and_a_planted_one_is_not_signed_in(
    app: Flask, client: FlaskClient, customer: User
) -> None:
    # given an attacker planted a session cookie in the victim's browser
    client.get("/account/sign-in")
    with client.session_transaction() as flask_session:
        flask_session["planted"] = "by an attacker"
    planted_cookie = client.get_cookie(COOKIE).value

    # when the victim signs in
    sign_in(client, "customer@example.com", KNOWN_PASSWORD)

    # then the browser holds a new session, and the planted cookie grants nothing
    signed_in_cookie = client.get_cookie(COOKIE).value
    assert signed_in_cookie != planted_cookie
    with client.session_transaction() as flask_session:
        assert "planted" not in flask_session
        assert flask_session[SESSION_TOKEN_KEY]
    attacker = app.test_client()
    attacker.set_cookie(COOKIE, planted_cookie)
    assert not is_signed_in(attacker)


@pytest.mark.story("US-03")
def test_signing_in_again_replaces_the_previous_session(
    client: FlaskClient, customer: User
) -> None:
    sign_in(client, "customer@example.com", KNOWN_PASSWORD)
    with client.session_transaction() as flask_session:
        first_token = flask_session[SESSION_TOKEN_KEY]

    sign_in(client, "customer@example.com", KNOWN_PASSWORD)

    with client.session_transaction() as flask_session:
        assert flask_session[SESSION_TOKEN_KEY] != first_token
    first, second = sessions_of(customer)
    assert first.ended_at is not None
    assert second.ended_at is None


@pytest.mark.story("US-03")
def test_a_replayed_cookie_is_not_signed_in_after_sign_out(
    app: Flask, client: FlaskClient, customer: User
) -> None:
    # given a signed-in browser whose cookie was copied
    sign_in(client, "customer@example.com", KNOWN_PASSWORD)
    copied_cookie = client.get_cookie(COOKIE).value

    # when it signs out
    response = client.post("/account/sign-out")

    # then the server ended the session, and the copy is anonymous
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert not is_signed_in(client)
    [row] = sessions_of(customer)
    assert row.ended_at is not None
    replay = app.test_client()
    replay.set_cookie(COOKIE, copied_cookie)
    response = replay.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in")


@pytest.mark.story("US-03")
def test_session_ends_after_30_idle_minutes(
    client: FlaskClient, customer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    time = Clock(monkeypatch)
    sign_in(client, "customer@example.com", KNOWN_PASSWORD)

    time.advance(minutes=29, seconds=59)
    assert is_signed_in(client)
    time.advance(minutes=29, seconds=59)  # active a moment ago: the idle clock restarted
    assert is_signed_in(client)
    time.advance(minutes=30)

    assert not is_signed_in(client)
    [row] = sessions_of(customer)
    assert row.ended_at == time.now


@pytest.mark.story("US-03")
def test_session_ends_12_hours_after_sign_in_however_active(
    client: FlaskClient, customer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    time = Clock(monkeypatch)
    sign_in(client, "customer@example.com", KNOWN_PASSWORD)

    for _ in range(12 * 3 - 1):
        time.advance(minutes=20)
        assert is_signed_in(client)
    time.advance(minutes=20)  # 12 hours after sign-in

    assert not is_signed_in(client)


@pytest.mark.story("US-28")
def test_a_staff_session_ends_after_15_idle_minutes_and_8_hours(
    client: FlaskClient, staff_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    time = Clock(monkeypatch)
    sign_in(client, "staff@example.com", KNOWN_PASSWORD)
    time.advance(minutes=14, seconds=59)
    assert is_signed_in(client)
    time.advance(minutes=15)
    assert not is_signed_in(client)

    sign_in(client, "staff@example.com", KNOWN_PASSWORD)
    for _ in range(8 * 6 - 1):
        time.advance(minutes=10)
        assert is_signed_in(client)
    time.advance(minutes=10)  # 8 hours after sign-in
    assert not is_signed_in(client)


@pytest.mark.story("US-03")
@pytest.mark.config(SESSION_IDLE_MINUTES=5, SESSION_ABSOLUTE_MINUTES=60)
def test_both_timeouts_are_settings(
    client: FlaskClient, customer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    time = Clock(monkeypatch)
    sign_in(client, "customer@example.com", KNOWN_PASSWORD)

    time.advance(minutes=4)
    assert is_signed_in(client)
    time.advance(minutes=5)
    assert not is_signed_in(client)


def test_last_seen_is_written_at_most_once_a_minute(
    client: FlaskClient,
    customer: User,
    monkeypatch: pytest.MonkeyPatch,
    sql_statements: list[str],
) -> None:
    time = Clock(monkeypatch)
    sign_in(client, "customer@example.com", KNOWN_PASSWORD)
    sql_statements.clear()

    for _ in range(5):
        time.advance(seconds=10)
        client.get("/account")
    updates_within_a_minute = [s for s in sql_statements if s.lstrip().upper().startswith("UPDATE")]
    time.advance(seconds=15)
    client.get("/account")

    assert updates_within_a_minute == []
    [row] = sessions_of(customer)
    assert row.last_seen_at == time.now


def test_sign_in_rehashes_a_password_hashed_with_old_parameters(app: Flask) -> None:
    old_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(KNOWN_PASSWORD)
    user = UserFactory(email="old@example.com", password_hash=old_hash)

    services.sign_in("old@example.com", KNOWN_PASSWORD)

    db.session.expire_all()
    refreshed = db.session.get(User, user.id)
    assert refreshed.password_hash != old_hash
    assert passwords.needs_rehash(refreshed.password_hash) is False
    assert services.sign_in("old@example.com", KNOWN_PASSWORD).user.id == user.id


@pytest.mark.story("US-03")
@pytest.mark.parametrize(
    ("next_url", "location"),
    [
        ("/account/addresses", "/account/addresses"),
        ("/search?q=shoes", "/search?q=shoes"),
        ("http://localhost/account/password", "/account/password"),
        ("https://evil.example/phish", "/account"),
        ("//evil.example/phish", "/account"),
        ("/\\evil.example", "/account"),
        ("javascript:alert(1)", "/account"),
    ],
)
def test_sign_in_follows_only_a_same_site_next(
    client: FlaskClient, customer: User, next_url: str, location: str
) -> None:
    response = client.post(
        "/account/sign-in",
        query_string={"next": next_url},
        data={"email": "customer@example.com", "password": KNOWN_PASSWORD},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == location


@pytest.mark.story("US-03")
def test_a_protected_page_sends_a_visitor_to_sign_in_and_back(
    client: FlaskClient, customer: User
) -> None:
    response = client.get("/account/addresses")

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/sign-in?next=%2Faccount%2Faddresses"
    back = client.post(
        response.headers["Location"],
        data={"email": "customer@example.com", "password": KNOWN_PASSWORD},
    )
    assert back.headers["Location"] == "/account/addresses"


def test_sign_in_form_has_the_labels_and_button_the_browser_tests_use(
    client: FlaskClient,
) -> None:
    page = client.get("/account/sign-in").text

    assert '<label for="email">Email</label>' in page
    assert '<label for="password">Password</label>' in page
    assert '<button type="submit">Sign in</button>' in page


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"email": "customer@example.com"},
        {"email": "x" * 5000, "password": "y"},
        {"email": "customer@example.com", "password": "y" * 200_000},
        {"email": "customer@example.com\x00", "password": KNOWN_PASSWORD},
    ],
    ids=["empty", "no-password", "overlong-email", "overlong-password", "nul"],
)
def test_bad_sign_in_input_is_a_422_not_a_500(
    client: FlaskClient, customer: User, data: dict[str, str]
) -> None:
    response = client.post("/account/sign-in", data=data)

    assert response.status_code == 422
    assert sessions_of(customer) == []


@pytest.mark.story("US-03")
def test_sign_out_is_post_only(client: FlaskClient, customer: User) -> None:
    sign_in(client, "customer@example.com", KNOWN_PASSWORD)

    response = client.get("/account/sign-out")

    assert response.status_code == 405
    assert is_signed_in(client)


@pytest.mark.story("US-03")
@pytest.mark.parametrize(("environment", "secure"), [("development", False), ("production", True)])
def test_session_cookie_is_httponly_lax_and_secure_outside_development(
    monkeypatch: pytest.MonkeyPatch, tmp_path, environment: str, secure: bool
) -> None:
    for name, value in production_environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FUNNEL_ENV", environment)
    monkeypatch.delenv("FUNNEL_SECURE_COOKIES", raising=False)
    application = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})

    @application.get("/__set")
    def _set() -> str:
        from flask import session

        session["probe"] = 1
        return "ok"

    headers = application.test_client().get("/__set").headers.getlist("Set-Cookie")
    [header] = [value for value in headers if value.startswith(f"{COOKIE}=")]

    assert header.startswith(f"{COOKIE}=")
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert ("Secure" in header.split("; ")) is secure
