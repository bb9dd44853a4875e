"""API tokens: created with email and password, listed and revoked by their owner, expiring."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from funnel.accounts.models import ApiToken, User
from funnel.accounts.services.api_tokens import SECRET_PREFIX
from funnel.accounts.tokens import hash_token
from funnel.extensions import db
from tests.accounts.helpers import START, Clock
from tests.factories.accounts import KNOWN_PASSWORD, UserFactory
from tests.support.api import problem

TOKENS = "/api/v1/auth/tokens"


def _create(client: FlaskClient, email: str, password: str = KNOWN_PASSWORD, **extra: object):
    return client.post(TOKENS, json={"email": email, "password": password, **extra})


def _token_rows() -> list[ApiToken]:
    return list(db.session.scalars(sa.select(ApiToken).order_by(ApiToken.id)))


@pytest.mark.story("US-42")
def test_a_token_is_created_with_email_and_password_and_shown_once(
    client: FlaskClient, customer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    Clock(monkeypatch)

    response = _create(client, "Customer@Example.com", name="My script")

    assert response.status_code == 201
    body = response.get_json()
    assert body["token"].startswith(SECRET_PREFIX)
    assert body["name"] == "My script"
    assert body["prefix"] == body["token"][:12]
    assert body["created_at"] == "2026-03-01T09:00:00+00:00"
    assert body["expires_at"] == "2026-03-31T09:00:00+00:00"
    assert body["last_used_at"] is None
    [row] = _token_rows()
    assert row.id == body["id"]
    assert row.user_id == customer.id
    assert row.token_hash == hash_token(body["token"])
    assert body["token"] not in (row.token_hash, row.prefix)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.get_json()["email"] == "customer@example.com"


@pytest.mark.story("US-42")
def test_wrong_credentials_are_one_generic_401_and_create_nothing(
    client: FlaskClient, customer: User
) -> None:
    wrong_password = _create(client, "customer@example.com", "not the password")
    unknown_email = _create(client, "nobody@example.com")

    first = problem(wrong_password, 401, "invalid_credentials")
    second = problem(unknown_email, 401, "invalid_credentials")
    assert first["detail"] == second["detail"] == "Email or password is incorrect"
    assert wrong_password.headers["WWW-Authenticate"].startswith("Bearer")
    assert _token_rows() == []


def test_a_token_without_a_name_gets_the_default_name(client: FlaskClient, customer: User) -> None:
    response = _create(client, "customer@example.com")

    assert response.status_code == 201
    assert response.get_json()["name"] == "API token"


def test_a_name_as_long_as_the_document_allows_is_accepted(
    client: FlaskClient, customer: User
) -> None:
    # given the longest name the OpenAPI document allows
    document = client.get("/api/v1/openapi.json").get_json()
    longest = document["components"]["schemas"]["TokenRequest"]["properties"]["name"]["maxLength"]

    # when a token is asked for with it
    response = _create(client, "customer@example.com", name="n" * longest)

    # then the token is made with that name
    assert response.status_code == 201
    assert response.get_json()["name"] == "n" * longest


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": KNOWN_PASSWORD}, "email"),
        ({"email": "customer@example.com"}, "password"),
        ({"email": 12, "password": KNOWN_PASSWORD}, "email"),
        ({"email": "customer@example.com", "password": ["x"]}, "password"),
        ({"email": "customer@example.com", "password": KNOWN_PASSWORD, "extra": 1}, "extra"),
        ({"email": "customer@example.com", "password": KNOWN_PASSWORD, "name": "a\x00b"}, "name"),
    ],
)
def test_malformed_token_requests_are_422_with_the_field(
    client: FlaskClient, customer: User, body: dict[str, object], field: str
) -> None:
    response = client.post(TOKENS, json=body)

    assert list(problem(response, 422, response.get_json()["code"])["fields"]) == [field]
    assert _token_rows() == []


@pytest.mark.story("US-42")
def test_the_owner_lists_only_their_live_tokens(
    client: FlaskClient, customer: User, bearer: Callable[..., dict[str, str]]
) -> None:
    headers = bearer(customer)
    bearer(UserFactory())  # someone else's

    response = client.get(TOKENS, headers=headers)

    assert response.status_code == 200
    [item] = response.get_json()["items"]
    assert set(item) == {"id", "name", "prefix", "created_at", "last_used_at", "expires_at"}
    assert item["id"] == _token_rows()[0].id


@pytest.mark.story("US-42")
def test_a_revoked_token_stops_working_at_once(
    client: FlaskClient, customer: User, bearer: Callable[..., dict[str, str]]
) -> None:
    headers = bearer(customer)
    [row] = _token_rows()

    revoked = client.delete(f"{TOKENS}/{row.id}", headers=headers)
    after = client.get("/api/v1/me", headers=headers)

    assert revoked.status_code == 204
    assert revoked.get_data() == b""
    problem(after, 401, "token_invalid_or_expired")
    assert 'error="invalid_token"' in after.headers["WWW-Authenticate"]
    assert _token_rows()[0].revoked_at is not None


@pytest.mark.story("US-42")
def test_revoking_someone_elses_token_is_404_and_changes_nothing(
    client: FlaskClient, customer: User, bearer: Callable[..., dict[str, str]]
) -> None:
    other = UserFactory()
    other_headers = bearer(other)
    [other_row] = _token_rows()

    response = client.delete(f"{TOKENS}/{other_row.id}", headers=bearer(customer))

    problem(response, 404, "api_token_not_found")
    assert _token_rows()[0].revoked_at is None
    assert client.get("/api/v1/me", headers=other_headers).status_code == 200


@pytest.mark.story("US-42")
def test_a_token_expires_after_the_configured_days(
    client: FlaskClient,
    customer: User,
    bearer: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    time = Clock(monkeypatch)
    headers = bearer(customer, days=30)

    time.advance(days=29, hours=23)
    still_valid = client.get("/api/v1/me", headers=headers)
    time.advance(hours=1)
    expired = client.get("/api/v1/me", headers=headers)

    assert still_valid.status_code == 200
    problem(expired, 401, "token_invalid_or_expired")


@pytest.mark.config(API_TOKEN_DAYS=2)
def test_the_token_lifetime_follows_the_setting(
    client: FlaskClient, customer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    Clock(monkeypatch)

    response = _create(client, "customer@example.com")

    assert response.get_json()["expires_at"] == "2026-03-03T09:00:00+00:00"


def test_last_used_is_recorded_at_most_once_a_minute(
    client: FlaskClient,
    customer: User,
    bearer: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    time = Clock(monkeypatch)
    headers = bearer(customer)

    client.get("/api/v1/me", headers=headers)
    time.advance(seconds=59)
    client.get("/api/v1/me", headers=headers)
    first = _token_rows()[0].last_used_at
    time.advance(seconds=1)
    client.get("/api/v1/me", headers=headers)

    assert first == START
    assert _token_rows()[0].last_used_at == START.replace(minute=1)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer fnl_not-a-real-token",
        "Bearer " + "x" * 5000,
        "Bearer fnl_\u2603\u0000",
    ],
)
def test_missing_or_bad_credentials_are_401_with_a_bearer_challenge(
    client: FlaskClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = client.get("/api/v1/me", headers=headers)

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="funnel"')
    assert response.get_json()["code"] in {"authentication_required", "token_invalid_or_expired"}


@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_token_creation_shares_the_sign_in_limit_per_email(
    client: FlaskClient, customer: User
) -> None:
    for _ in range(3):
        client.post(
            "/account/sign-in", data={"email": "customer@example.com", "password": "wrong one"}
        )
    statuses = [_create(client, "customer@example.com", "wrong one").status_code for _ in range(3)]

    assert statuses == [401, 401, 429]
    refused = _create(client, "customer@example.com", "wrong one")
    problem(refused, 429, "too_many_requests")
    assert int(refused.headers["Retry-After"]) >= 1


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_api_calls_need_no_csrf_token(
    client: FlaskClient, customer: User, bearer: Callable[..., dict[str, str]]
) -> None:
    created = _create(client, "customer@example.com")
    address = client.post(
        "/api/v1/me/addresses",
        json={
            "full_name": "Ann Smith",
            "line1": "1 High Street",
            "city": "Bristol",
            "postal_code": "BS1 4DJ",
            "country_code": "GB",
        },
        headers=bearer(customer),
    )
    form = client.post(
        "/account/sign-in", data={"email": "customer@example.com", "password": KNOWN_PASSWORD}
    )

    assert created.status_code == 201
    assert address.status_code == 201
    assert form.status_code == 400  # the pages still need their CSRF token


@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_api_registration_shares_the_registration_limit_per_client(client: FlaskClient) -> None:
    password = "a long enough passphrase"
    for number in range(3):
        page = client.post(
            "/account/register",
            data={
                "email": f"page{number}@example.com",
                "password": password,
                "confirm_password": password,
            },
        )
        assert page.status_code == 302
        client.post("/account/sign-out")
    statuses = [
        client.post(
            "/api/v1/auth/register",
            json={"email": f"api{number}@example.com", "password": password},
        ).status_code
        for number in range(3)
    ]

    assert statuses == [201, 201, 429]
