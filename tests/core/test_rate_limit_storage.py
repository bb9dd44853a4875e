"""The rate-limit counters file that the workers of one machine share (``funnel+sqlite``)."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from flask import Flask
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from funnel import create_app
from funnel.accounts.models import User
from funnel.core import rate_limit_storage
from funnel.core.rate_limit_storage import SQLiteStorage
from tests.factories.accounts import KNOWN_PASSWORD


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(rate_limit_storage, "time", fake)
    return fake


def uri(tmp_path: Path) -> str:
    return f"funnel+sqlite:///{tmp_path / 'instance' / 'rate-limits.db'}"


def test_the_scheme_is_registered_with_the_limits_library(tmp_path: Path) -> None:
    storage = storage_from_string(uri(tmp_path))

    assert isinstance(storage, SQLiteStorage)
    assert storage.path == tmp_path / "instance" / "rate-limits.db"
    assert storage.check() is True


def test_two_workers_count_in_one_window(tmp_path: Path, clock: FakeClock) -> None:
    # given two workers, each with its own storage object on the same file
    first, second = SQLiteStorage(uri(tmp_path)), SQLiteStorage(uri(tmp_path))
    limiter_one, limiter_two = FixedWindowRateLimiter(first), FixedWindowRateLimiter(second)
    five_a_minute = parse("5/minute")

    # when they take turns hitting one limit
    hits = [
        (limiter_one if number % 2 else limiter_two).hit(five_a_minute, "sign-in", "ann")
        for number in range(7)
    ]

    # then the sixth hit is refused, whichever worker counts it, and both see the same count
    assert hits == [True] * 5 + [False] * 2
    assert first.get("LIMITER/sign-in/ann/5/1/minute") == 7
    assert second.get_expiry("LIMITER/sign-in/ann/5/1/minute") == clock.now + 60


def test_a_new_window_starts_when_the_last_one_expired(tmp_path: Path, clock: FakeClock) -> None:
    storage = SQLiteStorage(uri(tmp_path))
    assert [storage.incr("key", 60) for _ in range(3)] == [1, 2, 3]

    clock.now += 60

    assert storage.get("key") == 0
    assert storage.get_expiry("key") == clock.now
    assert storage.incr("key", 60, amount=2) == 2
    assert storage.get_expiry("key") == clock.now + 60


def test_concurrent_increments_are_atomic(tmp_path: Path) -> None:
    # given eight workers' storages on one file
    storages = [SQLiteStorage(uri(tmp_path)) for _ in range(8)]
    counts: list[int] = []
    lock = threading.Lock()

    def hammer(storage: SQLiteStorage) -> None:
        for _ in range(25):
            value = storage.incr("shared", 60)
            with lock:
                counts.append(value)

    # when each increments one counter 25 times at once
    threads = [threading.Thread(target=hammer, args=(storage,)) for storage in storages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then no increment was lost or seen twice
    assert sorted(counts) == list(range(1, 201))
    assert storages[0].get("shared") == 200


def test_clear_and_reset(tmp_path: Path) -> None:
    storage = SQLiteStorage(uri(tmp_path))
    storage.incr("one", 60)
    storage.incr("two", 60)

    storage.clear("one")

    assert (storage.get("one"), storage.get("two")) == (0, 1)
    assert storage.reset() == 1
    assert storage.get("two") == 0


def test_a_uri_without_a_file_is_refused() -> None:
    with pytest.raises(ValueError, match="funnel\\+sqlite needs a file"):
        SQLiteStorage("funnel+sqlite://")


@pytest.mark.backends("sqlite")
def test_failure_only_limits_and_their_headers_work_on_the_file(
    app: Flask, customer: User, tmp_path: Path
) -> None:
    # given a shop counting its limits in the file (the default when there is no Redis)
    shop = create_app(
        {**app.config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": uri(tmp_path)}
    )
    client = shop.test_client()
    wrong = {"email": customer.email, "password": "not the password"}

    # when one right and six wrong passwords arrive for one account
    right = client.post("/api/v1/auth/tokens", json={**wrong, "password": KNOWN_PASSWORD})
    answers = [client.post("/api/v1/auth/tokens", json=wrong) for _ in range(6)]

    # then only failures count (5 a minute), and the headers say where the client stands
    assert right.status_code == 201
    assert [answer.status_code for answer in answers] == [401] * 5 + [429]
    assert answers[0].headers["RateLimit-Policy"] == '"sign-in-email";q=5;w=60'
    assert re.fullmatch(r'"sign-in-email";r=4;t=\d+', answers[0].headers["RateLimit"])
    assert int(answers[5].headers["Retry-After"]) >= 1
