"""Outages and slowness answer a 503 with Retry-After, never a 500: a database that is down,
one that goes down in the middle of a request (its Idempotency-Key is freed once the database
is back), and a request that runs past the shop's request deadline (its work rolled back)."""

from __future__ import annotations

import contextlib
import logging
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_smorest import Blueprint
from sqlalchemy.engine import make_url

from funnel import create_app
from funnel.core.database import transaction
from funnel.core.idempotency import IdempotencyRecord, idempotent
from funnel.extensions import db
from tests.support.api import problem
from tests.support.live_server import free_port

KEY = {"Idempotency-Key": "9a7c1f2e-outage"}


def _settings(url: str, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "FUNNEL_ENV": "test",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "SQLALCHEMY_DATABASE_URI": url,
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": False,
        "MAIL_OUTBOX": str(tmp_path / "outbox"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        **extra,
    }


# --- the database is down -------------------------------------------------------------------


@pytest.mark.story("US-44")
@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-folder/for/funnel.db",
        "postgresql+psycopg://postgres@127.0.0.1:{port}/funnel",
        "mysql+pymysql://root@127.0.0.1:{port}/funnel",
    ],
    ids=["sqlite", "postgresql", "mysql"],
)
def test_a_database_that_is_down_is_a_503_with_retry_after_for_pages_and_the_api(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, url: str
) -> None:
    app = create_app(_settings(url.format(port=free_port()), tmp_path))
    client = app.test_client()

    with caplog.at_level(logging.INFO):
        api = client.get("/api/v1/products")
        keyed = client.post(
            "/api/v1/checkouts/1/complete",
            json={"payment_method": "manual"},
            headers={**KEY, "Cart-Secret": "s" * 40},
        )
        page = client.get("/")

    for response in (api, keyed):
        problem(response, 503, "database_unavailable")
        assert response.headers["Retry-After"] == "10"
    assert (page.status_code, page.mimetype, page.headers["Retry-After"]) == (
        503,
        "text/html",
        "10",
    )
    assert "<h1>The shop is not available right now</h1>" in page.text
    assert [record.exc_info for record in caplog.records if record.exc_info] == []
    logged = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(logged) == 3
    assert all(message.startswith("database unavailable: ") for message in logged)


# --- the database goes down in the middle of a request ----------------------------------------


class CuttableProxy:
    """A TCP proxy in front of a database whose connections the test can cut (and restore)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.is_cut = False
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.is_cut:
                client.close()
                continue
            server = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def cut(self) -> None:
        self.is_cut = True
        with self.lock:
            for end in self.sockets:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
            self.sockets.clear()

    def restore(self) -> None:
        self.is_cut = False

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture
def proxied(app: Flask, backend: str, tmp_path: Path) -> Iterator[tuple[Flask, CuttableProxy]]:
    """A second app on the same database, reaching it through a proxy the test can cut."""
    if backend == "sqlite":
        pytest.skip("an SQLite file cannot be cut off from the shop")
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 0)
    through = url.set(host="127.0.0.1", port=proxy.port)
    shop = create_app(_settings(through.render_as_string(hide_password=False), tmp_path))
    bp = Blueprint("outage_probe", __name__)

    @bp.route("/api/test/outage-probe", methods=["POST"])
    @idempotent(bp)
    def probe() -> Any:
        if shop.config.get("CUT_DATABASE"):
            proxy.cut()
        db.session.execute(sa.select(1)).scalar()
        return {"ran": True}, 201

    shop.register_blueprint(bp)
    try:
        yield shop, proxy
    finally:
        proxy.close()
        with shop.app_context():
            db.engine.dispose()


def _keys() -> list[str]:
    db.session.commit()
    return list(db.session.scalars(sa.select(IdempotencyRecord.key)))


@pytest.mark.story("US-43")
def test_a_request_the_database_fails_mid_way_frees_its_key_once_the_database_is_back(
    app: Flask, proxied: tuple[Flask, CuttableProxy]
) -> None:
    # given a key claimed, then the database cut off during the operation
    shop, proxy = proxied
    client = shop.test_client()
    shop.config["CUT_DATABASE"] = True

    failed = client.post("/api/test/outage-probe", json={"n": 1}, headers=KEY)

    # then the answer is a 503 problem with Retry-After, and the key is still held
    problem(failed, 503, "database_unavailable")
    assert failed.headers["Retry-After"] == "10"
    assert _keys() == [KEY["Idempotency-Key"]]

    # when the database is back, the key is freed, and a retry with it runs
    shop.config["CUT_DATABASE"] = False
    proxy.restore()
    deadline = time.monotonic() + 10
    while _keys() and time.monotonic() < deadline:
        time.sleep(0.1)
    retry = client.post("/api/test/outage-probe", json={"n": 1}, headers=KEY)

    assert _keys() == [KEY["Idempotency-Key"]]
    assert (retry.status_code, retry.get_json()) == (201, {"ran": True})


# --- the request deadline -------------------------------------------------------------------


@pytest.fixture
def slow(app: Flask) -> Flask:
    """An operation that writes, then waits longer than the deadline (1 s)."""
    bp = Blueprint("slow_probe", __name__)

    @bp.route("/api/test/slow", methods=["POST"])
    @idempotent(bp)
    def slow_write() -> Any:
        with transaction():
            db.session.add(IdempotencyRecord(scope="probe", key="written", request_hash="x"))
            db.session.flush()
            time.sleep(3)
        return {"ran": True}, 201

    @bp.route("/slow-page")
    def slow_page() -> str:
        time.sleep(3)
        return "done"

    @bp.route("/api/test/slow-statement")
    def slow_statement() -> Any:
        sleep = {"postgresql": "SELECT pg_sleep(3)", "mysql": "SELECT SLEEP(3)"}
        db.session.execute(sa.text(sleep[db.engine.dialect.name])).all()
        return {"ran": True}

    app.register_blueprint(bp)
    return app


@pytest.mark.own_app  # the probe adds its own routes
@pytest.mark.story("US-44")
@pytest.mark.backends("sqlite")
@pytest.mark.config(REQUEST_TIMEOUT_SECONDS=1)
def test_a_request_past_the_deadline_is_a_503_and_its_work_is_rolled_back(slow: Flask) -> None:
    client = slow.test_client()

    started = time.monotonic()
    response = client.post("/api/test/slow", json={}, headers=KEY)
    page = client.get("/slow-page")
    elapsed = time.monotonic() - started

    problem(response, 503, "request_timeout")
    assert response.headers["Retry-After"] == "10"
    assert (page.status_code, page.mimetype, page.headers["Retry-After"]) == (
        503,
        "text/html",
        "10",
    )
    assert "<h1>The request took too long</h1>" in page.text
    assert elapsed < 4
    assert _keys() == []  # neither the operation's row nor the key: both rolled back or freed


@pytest.mark.own_app  # the probe adds its own routes
@pytest.mark.story("US-44")
@pytest.mark.config(REQUEST_TIMEOUT_SECONDS=1)
def test_the_database_cuts_a_statement_past_the_deadline(slow: Flask, backend: str) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite has no statement timeout (its busy timeout bounds lock waits)")
    answers: list[Any] = []
    # Served outside the main thread, as the threaded development server does: no SIGALRM,
    # so what stops the statement is the database's own timeout.
    worker = threading.Thread(
        target=lambda: answers.append(slow.test_client().get("/api/test/slow-statement"))
    )

    started = time.monotonic()
    worker.start()
    worker.join(timeout=10)
    elapsed = time.monotonic() - started

    problem(answers[0], 503, "request_timeout")
    assert elapsed < 2.5
