"""US-07: the sign-in limits hold as documented under gunicorn with four workers.

Each worker is a process of its own: counted in memory, every worker would let the documented
number through (the sixth failure for one email was first refused at attempt 16). The default
storage is a SQLite file in the instance folder that the workers share; with
``FUNNEL_REDIS_URL`` the counts live in Redis. Both are proven against a real server.

Each test calls from a loopback address of its own (127.x.y.z), so that runs sharing one Redis
never count each other's attempts.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
from pathlib import Path

import pytest
import redis

from tests.conftest import missing_service
from tests.support.live_server import LiveServer
from tests.support.shops import shop_on

SIGN_IN = "/api/v1/auth/tokens"


def redis_settings() -> dict[str, str]:
    url = os.environ.get("FUNNEL_TEST_REDIS_URL")
    if not url:
        missing_service("the Redis rate-limit test needs FUNNEL_TEST_REDIS_URL")
    try:
        redis.Redis.from_url(url).ping()  # type: ignore[arg-type]
    except redis.RedisError as error:
        missing_service(f"Redis is not reachable at FUNNEL_TEST_REDIS_URL: {error}")
    return {"FUNNEL_REDIS_URL": url}  # type: ignore[dict-item]


def forget_counts(settings: dict[str, str], *needles: str) -> None:
    """Delete this test's counters from Redis (they would otherwise live for their window)."""
    url = settings.get("FUNNEL_REDIS_URL")
    if url is None:
        return
    store = redis.Redis.from_url(url)
    for needle in needles:
        for key in store.scan_iter(f"*{needle}*"):
            store.delete(key)


def loopback_address() -> str:
    """A client address of this test's own: 127.0.0.0/8 all reaches the server on 127.0.0.1."""
    return f"127.{secrets.randbelow(254) + 1}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


def failed_sign_in(server: LiveServer, source: str, email: str) -> int:
    """One sign-in with a wrong password from ``source``, on a new connection (any worker)."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", server.port, timeout=30, source_address=(source, 0)
    )
    try:
        body = json.dumps({"email": email, "password": "not the password", "name": "script"})
        connection.request("POST", SIGN_IN, body, {"Content-Type": "application/json"})
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.story("US-07")
@pytest.mark.parametrize("storage", ["default", "redis"])
def test_sign_in_limits_hold_as_documented_with_four_workers(storage: str, tmp_path: Path) -> None:
    # given a shop served by four gunicorn workers, limits counted in the default storage (no
    # setting at all) or in Redis
    settings = {"FUNNEL_RATELIMIT_ENABLED": "true"}
    if storage == "redis":
        settings.update(redis_settings())
    script, crowd = loopback_address(), loopback_address()
    email = f"target-{secrets.token_hex(4)}@example.com"
    try:
        with shop_on("sqlite", tmp_path, settings=settings, workers=4) as (server, _app):
            # when one address fails to sign in as one email six times, and another address
            # tries eleven emails once each
            for_one_email = [failed_sign_in(server, script, email) for _ in range(6)]
            from_one_address = [
                failed_sign_in(server, crowd, f"{number}-{email}") for number in range(11)
            ]
    finally:
        forget_counts(settings, script, crowd, email)

    # then the sixth failure for the email is refused (5 a minute), and so is the eleventh
    # attempt from the address (10 a minute), whichever worker answered each
    assert for_one_email == [401] * 5 + [429]
    assert from_one_address == [401] * 10 + [429]
