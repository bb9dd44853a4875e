"""Payments test fixtures: the app with the test gateway's pages and the checkout's webhook
endpoint (``/webhooks/<gateway>``), threads, a server."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

import funnel.payments.models  # noqa: F401  (the payments tables belong to the metadata)
from funnel.extensions import db


@pytest.fixture
def payments_app(app: Flask) -> Flask:
    return app


@pytest.fixture
def payments_client(payments_app: Flask) -> FlaskClient:
    return payments_app.test_client()


def end_read_transaction() -> None:
    """End this thread's open read so the next read sees what other threads committed."""
    db.session.commit()


@pytest.fixture
def in_threads(app: Flask) -> Callable[..., list[Any]]:
    """``in_threads(*callables)``: run each in its own thread and app context, released
    together by a barrier; returns each one's result or the exception it raised."""

    def run(*callables: Callable[[], Any]) -> list[Any]:
        end_read_transaction()
        barrier = threading.Barrier(len(callables))
        results: list[Any] = [None] * len(callables)

        def worker(index: int, function: Callable[[], Any]) -> None:
            with app.app_context():
                try:
                    barrier.wait(timeout=30)
                    results[index] = function()
                except Exception as error:  # reported to the test
                    results[index] = error

        threads = [
            threading.Thread(target=worker, args=(index, function))
            for index, function in enumerate(callables)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        end_read_transaction()
        return results

    return run


@pytest.fixture
def live_server(payments_app: Flask) -> Iterator[str]:
    """The app served over real HTTP on a free port; ``BASE_URL`` points at it."""
    server = make_server("127.0.0.1", 0, payments_app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    previous = payments_app.config["BASE_URL"]
    payments_app.config["BASE_URL"] = base_url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        thread.join(timeout=10)
        payments_app.config["BASE_URL"] = previous
