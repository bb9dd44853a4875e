"""A live gunicorn shop on a fresh database of one backend, for tests that need real HTTP.

``shop_on(backend, directory, **server_options)`` yields ``(server, app)``: the server, and an
app bound to the same database for setting up and reading what the requests wrote. A missing
database skips locally and fails under CI; the database is dropped afterwards.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask

from funnel import create_app
from funnel.extensions import db
from tests.conftest import missing_service
from tests.support.databases import DatabaseProvider
from tests.support.live_server import LiveServer


@contextmanager
def shop_on(
    backend: str,
    directory: Path,
    *,
    settings: Mapping[str, str] | None = None,
    **server_options: Any,
) -> Iterator[tuple[LiveServer, Flask]]:
    provider = DatabaseProvider(directory)
    url = provider.url_for(backend)
    if url is None:
        missing_service(provider.missing_reason(backend))
    server = LiveServer(
        directory,
        database_url=url,
        settings={"FUNNEL_SECRET_KEY": secrets.token_urlsafe(32), **(settings or {})},
        **server_options,
    )
    server.start()
    app = create_app({"TESTING": True, "SECRET_KEY": "reader", "SQLALCHEMY_DATABASE_URI": url})
    try:
        yield server, app
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()
        provider.drop_all()
