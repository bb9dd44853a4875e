"""US-07: with FUNNEL_REDIS_URL the rate limits are shared by every worker of the shop.

With Redis as the limiter's store the counts live in Redis, not in one process's memory, so
every gunicorn worker (and every machine) reads the same numbers. Runs when
``FUNNEL_TEST_REDIS_URL`` is set (a visible skip locally without it, a failure under
``CI=true``).
"""

from __future__ import annotations

import os
import secrets

import pytest
import redis
from flask import Flask

from funnel import create_app
from funnel.accounts.models import User
from funnel.extensions import limiter
from tests.conftest import missing_service
from tests.factories.accounts import KNOWN_PASSWORD


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("FUNNEL_TEST_REDIS_URL")
    if not url:
        missing_service("shared rate limit tests need FUNNEL_TEST_REDIS_URL")
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as error:
        missing_service(f"Redis is not reachable at FUNNEL_TEST_REDIS_URL: {error}")
    return url  # type: ignore[return-value]


@pytest.mark.story("US-07")
@pytest.mark.backends("sqlite")
def test_sign_in_attempts_are_counted_in_redis_for_every_worker(
    app: Flask, customer: User, redis_url: str
) -> None:
    # given a shop whose limiter stores its counts in Redis (FUNNEL_REDIS_URL)
    prefix = f"funnel-test-{secrets.token_hex(4)}"
    shop = create_app(
        {
            **app.config,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": redis_url,
            "RATELIMIT_KEY_PREFIX": prefix,
        }
    )
    attempt = {"email": customer.email, "password": "wrong password"}
    store = redis.Redis.from_url(redis_url, decode_responses=True)

    # when six failed sign-ins for one account arrive
    statuses = [
        shop.test_client().post("/account/sign-in", data=attempt).status_code for _ in range(6)
    ]

    # then the sixth is refused, and the counts live in Redis, where another worker process
    # (or another machine) reads the same numbers
    try:
        assert statuses == [422] * 5 + [429]
        counts = {
            key.split(f"{prefix}/", 1)[1]: int(store.get(key) or 0)
            for key in store.scan_iter(f"*{prefix}*")
        }
        assert counts == {
            "127.0.0.1/sign-in/10/1/minute": 5,
            f"sign-in-email:{customer.email}/sign-in-email/5/1/minute": 6,
        }
    finally:
        for key in store.scan_iter(f"*{prefix}*"):
            store.delete(key)


@pytest.mark.story("US-07")
@pytest.mark.backends("sqlite")
def test_with_redis_down_sign_in_is_paused_and_the_rest_of_the_shop_serves(
    app: Flask, customer: User
) -> None:
    # given a shop whose limiter stores its counts in a Redis that does not answer
    shop = create_app(
        {
            **app.config,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",
        }
    )
    browser = shop.test_client()
    attempt = {"email": customer.email, "password": KNOWN_PASSWORD}

    # when the customer signs in with the right password, on the page and through the API,
    # and a guest opens the shop
    try:
        page = browser.post("/account/sign-in", data=attempt)
        api = shop.test_client().post("/api/v1/auth/tokens", json=attempt)
        home = browser.get("/")
    finally:
        limiter._storage_dead = False  # the one limiter of this test process: Redis "is back"

    # then signing in waits for Redis (limits fail closed: no process counts alone), says so,
    # and signs no one in; the shop itself serves
    assert page.status_code == 503
    # (when to come back: the limiter's window, a minute at most)
    assert 1 <= int(page.headers["Retry-After"]) <= 60
    assert "Signing in is paused for a moment" in page.get_data(as_text=True)
    assert (api.status_code, api.get_json()["code"]) == (503, "sign_in_unavailable")
    assert "funnel_session" not in page.headers.get("Set-Cookie", "")
    assert home.status_code == 200
