"""Production refuses to start on settings that are unsafe there, naming each one, all at once.

Each test builds the app from the environment an operator sets (``production_environment``,
which starts), with one thing wrong, and reads the message the operator gets.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import Flask

from funnel import create_app
from funnel.config import ConfigurationError
from tests.support.production import production_environment

pytestmark = pytest.mark.story("US-47")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """A correct production environment, set in ``os.environ``; tests change it with
    ``start(**changes)`` (a value of None removes the variable)."""
    for name in list(os.environ):
        if name.startswith("FUNNEL_") or name in {"WEB_CONCURRENCY", "GUNICORN_CMD_ARGS"}:
            monkeypatch.delenv(name)
    return production_environment(tmp_path)


def start(monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], **changes: str | None) -> Flask:
    for name, value in {**environ, **changes}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return create_app()


def refusal(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], **changes: str | None
) -> list[str]:
    with pytest.raises(ConfigurationError) as refused:
        start(monkeypatch, environ, **changes)
    return refused.value.problems


def test_a_correct_production_environment_starts(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    app = start(monkeypatch, environment)

    assert app.config["FUNNEL_ENV"] == "production"
    assert app.config["LOG_FORMAT"] == "json"
    response = app.test_client().get("/healthz", base_url="https://shop.example.com")
    assert response.status_code == 200


def test_development_starts_with_no_setting_at_all(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], tmp_path: Path
) -> None:
    # given what `make run` has: nothing but the instance folder and a local base URL
    monkeypatch.setenv("FUNNEL_INSTANCE_PATH", str(tmp_path / "dev"))
    monkeypatch.setenv("FUNNEL_BASE_URL", "http://127.0.0.1:5000")

    app = create_app()

    assert app.config["FUNNEL_ENV"] == "development"
    assert app.config["LOG_FORMAT"] == "text"


def test_a_missing_secret_key_is_named(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    assert refusal(monkeypatch, environment, FUNNEL_SECRET_KEY=None) == [
        "FUNNEL_SECRET_KEY must be set when FUNNEL_ENV is 'production'"
    ]


def test_a_secret_key_shorter_than_32_bytes_is_refused(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    problems = refusal(monkeypatch, environment, FUNNEL_SECRET_KEY="x" * 31)

    assert len(problems) == 1
    assert problems[0].startswith("FUNNEL_SECRET_KEY must be at least 32 bytes long")
    assert "x" * 31 not in problems[0]  # the secret itself is never printed
    start(monkeypatch, environment, FUNNEL_SECRET_KEY="x" * 32)


def test_sqlite_needs_to_be_allowed_by_name(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    problems = refusal(monkeypatch, environment, FUNNEL_ALLOW_SQLITE_IN_PRODUCTION=None)

    assert len(problems) == 1
    assert problems[0].startswith("FUNNEL_DATABASE_URL is SQLite: set a PostgreSQL or MariaDB")
    assert "FUNNEL_ALLOW_SQLITE_IN_PRODUCTION=true" in problems[0]


def test_mail_needs_a_host(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> None:
    problems = refusal(monkeypatch, environment, FUNNEL_MAIL_HOST=None)

    assert len(problems) == 1
    assert problems[0].startswith("FUNNEL_MAIL_HOST must be set: without it order confirmations")


@pytest.mark.parametrize(
    "base_url",
    ["http://shop.example.com", "https://localhost", "https://127.0.0.1:8443", "http://127.0.0.1"],
)
def test_the_base_url_must_be_public_https(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], base_url: str
) -> None:
    assert refusal(monkeypatch, environment, FUNNEL_BASE_URL=base_url) == [
        "FUNNEL_BASE_URL must be the shop's public https address (links in emails use it), "
        f"not {base_url!r}"
    ]


def test_csrf_must_stay_on(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> None:
    assert refusal(monkeypatch, environment, FUNNEL_CSRF_ENABLED="false") == [
        "FUNNEL_CSRF_ENABLED must be true: without it any site can submit the shop's forms"
    ]


def test_rate_limits_must_stay_on(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    problems = refusal(monkeypatch, environment, FUNNEL_RATELIMIT_ENABLED="false")

    assert len(problems) == 1
    assert problems[0].startswith("FUNNEL_RATELIMIT_ENABLED must be true")


@pytest.mark.parametrize(
    "workers",
    [{"WEB_CONCURRENCY": "4"}, {"GUNICORN_CMD_ARGS": "--bind 0.0.0.0:8000 --workers 3"}, {}],
)
def test_rate_limits_in_memory_need_a_single_worker(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], workers: dict[str, str]
) -> None:
    problems = refusal(
        monkeypatch, environment, FUNNEL_RATELIMIT_STORAGE_URI="memory://", **workers
    )

    assert len(problems) == 1
    assert problems[0].startswith(
        "FUNNEL_RATELIMIT_STORAGE_URI=memory:// counts in each worker alone"
    )


def test_rate_limits_in_memory_are_fine_for_one_worker(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    app = start(
        monkeypatch, environment, FUNNEL_RATELIMIT_STORAGE_URI="memory://", WEB_CONCURRENCY="1"
    )

    assert app.config["WEB_WORKERS"] == 1


def test_cors_must_not_allow_every_origin(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    problems = refusal(monkeypatch, environment, FUNNEL_CORS_ORIGINS="*")

    assert len(problems) == 1
    assert problems[0].startswith("FUNNEL_CORS_ORIGINS must name the storefront origins")


def test_bank_transfer_needs_a_bank_account(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    problems = refusal(monkeypatch, environment, FUNNEL_BANK_ACCOUNT=None)

    assert len(problems) == 1
    assert problems[0].startswith(
        "FUNNEL_PAYMENT_GATEWAYS offers bank transfer (manual) but FUNNEL_BANK_ACCOUNT is empty"
    )
    start(monkeypatch, environment, FUNNEL_BANK_ACCOUNT=None, FUNNEL_PAYMENT_GATEWAYS="cod")


def test_the_test_gateway_is_refused(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    problems = refusal(monkeypatch, environment, FUNNEL_PAYMENT_GATEWAYS="test,manual")

    assert problems == [
        "FUNNEL_PAYMENT_GATEWAYS must not include the test gateway when FUNNEL_ENV is 'production'"
    ]


@pytest.mark.story("US-67")
@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        (
            {"FUNNEL_STRIPE_PUBLISHABLE_KEY": "pk_live", "FUNNEL_STRIPE_WEBHOOK_SECRET": "whsec"},
            "FUNNEL_STRIPE_SECRET_KEY is empty",
        ),
        (
            {"FUNNEL_STRIPE_SECRET_KEY": "sk_live_key", "FUNNEL_STRIPE_PUBLISHABLE_KEY": "pk"},
            "FUNNEL_STRIPE_WEBHOOK_SECRET is empty",
        ),
        (
            {},
            "FUNNEL_STRIPE_SECRET_KEY, FUNNEL_STRIPE_PUBLISHABLE_KEY, "
            "FUNNEL_STRIPE_WEBHOOK_SECRET are empty",
        ),
    ],
)
def test_stripe_needs_its_keys_and_webhook_secret(
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    changes: dict[str, str],
    missing: str,
) -> None:
    problems = refusal(monkeypatch, environment, FUNNEL_PAYMENT_GATEWAYS="stripe", **changes)

    assert problems == [
        f"FUNNEL_PAYMENT_GATEWAYS offers stripe but {missing}: set them from the Stripe "
        "dashboard (API keys; the webhook endpoint's signing secret) or remove stripe"
    ]


@pytest.mark.story("US-67")
def test_stripe_with_its_keys_starts_and_its_api_address_cannot_be_changed(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    keys = {
        "FUNNEL_PAYMENT_GATEWAYS": "stripe,manual",
        "FUNNEL_STRIPE_SECRET_KEY": "sk_live_key",
        "FUNNEL_STRIPE_PUBLISHABLE_KEY": "pk_live_key",
        "FUNNEL_STRIPE_WEBHOOK_SECRET": "whsec_live",
    }
    app = start(monkeypatch, environment, **keys)
    assert app.config["STRIPE_SECRET_KEY"] == "sk_live_key"

    problems = refusal(
        monkeypatch, environment, **keys, FUNNEL_STRIPE_API_BASE="http://127.0.0.1:12111"
    )

    assert problems == [
        "FUNNEL_STRIPE_API_BASE must be empty outside tests: payments would be sent to "
        "another server than Stripe's"
    ]


def test_jobs_need_a_broker_or_the_web_process(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    problems = refusal(monkeypatch, environment, FUNNEL_CELERY_BROKER_URL=None)

    assert len(problems) == 1
    assert problems[0].startswith("FUNNEL_CELERY_BROKER_URL must be set (and a worker and beat")


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("FUNNEL_PAGE_SIZE", "lots", "FUNNEL_PAGE_SIZE must be an integer, not 'lots'"),
        ("FUNNEL_PAGE_SIZE", "0", "FUNNEL_PAGE_SIZE must be from 1 to 200, not 0"),
        ("FUNNEL_MAIL_PORT", "70000", "FUNNEL_MAIL_PORT must be a port from 1 to 65535, not 70000"),
        (
            "FUNNEL_SESSION_IDLE_MINUTES",
            "0",
            "FUNNEL_SESSION_IDLE_MINUTES must be from 1 to 10080 minutes (a week), not 0",
        ),
        (
            "FUNNEL_TRUSTED_PROXIES",
            "-1",
            "FUNNEL_TRUSTED_PROXIES must be from 0 to 5 proxies, not -1",
        ),
    ],
)
def test_an_integer_out_of_its_range_is_named(
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    name: str,
    raw: str,
    message: str,
) -> None:
    assert refusal(monkeypatch, environment, **{name: raw}) == [message]


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("FUNNEL_REDIS_URL", "localhost:6379"),
        ("FUNNEL_CELERY_BROKER_URL", "rabbit"),
        ("FUNNEL_DATABASE_URL", "oracle://shop@db/shop"),
        ("FUNNEL_DATABASE_URL", "not a url"),
        ("FUNNEL_BASE_URL", "shop.example.com"),
        ("FUNNEL_RATELIMIT_STORAGE_URI", "redis"),
    ],
)
def test_a_bad_url_is_named(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], name: str, raw: str
) -> None:
    problems = refusal(monkeypatch, environment, **{name: raw})

    assert len(problems) == 1
    assert problems[0].startswith(f"{name} is not a")
    assert repr(raw) in problems[0]


def test_a_bad_url_shows_no_password(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    problems = refusal(monkeypatch, environment, FUNNEL_REDIS_URL="http://user:hunter22@cache")

    assert problems == ["FUNNEL_REDIS_URL is not a URL such as redis://: 'http://user:***@cache'"]


def test_every_problem_is_listed_together(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    # given an operator who copied the development settings to production
    with pytest.raises(ConfigurationError) as refused:
        start(
            monkeypatch,
            environment,
            FUNNEL_SECRET_KEY="short",
            FUNNEL_ALLOW_SQLITE_IN_PRODUCTION=None,
            FUNNEL_MAIL_HOST=None,
            FUNNEL_BASE_URL="http://127.0.0.1:5000",
            FUNNEL_CSRF_ENABLED="false",
            FUNNEL_CORS_ORIGINS="*",
            FUNNEL_BANK_ACCOUNT=None,
            FUNNEL_CELERY_BROKER_URL=None,
            FUNNEL_PAGE_SIZE="many",
        )

    # then one message names each problem, all in one error
    named = [problem.split()[0] for problem in refused.value.problems]
    assert named == [
        "FUNNEL_PAGE_SIZE",
        "FUNNEL_SECRET_KEY",
        "FUNNEL_DATABASE_URL",
        "FUNNEL_MAIL_HOST",
        "FUNNEL_BASE_URL",
        "FUNNEL_CSRF_ENABLED",
        "FUNNEL_CORS_ORIGINS",
        "FUNNEL_PAYMENT_GATEWAYS",
        "FUNNEL_CELERY_BROKER_URL",
    ]
    message = str(refused.value)
    assert message.startswith("Funnel cannot start, 9 settings are wrong:\n- FUNNEL_PAGE_SIZE")
    assert "short" not in message.replace("FUNNEL_SECRET_KEY", "")
