"""Health endpoints for load balancers and orchestrators.

- ``/healthz`` (also ``/health/live``): the process serves requests. Touches nothing else, so a
  database outage does not get every instance restarted.
- ``/readyz`` (also ``/health/ready``): this instance can serve the shop: the database answers
  and its schema is at the migrations' head, and Redis and the Celery broker answer when they
  are configured. 503 with the failing components named otherwise.

Neither is rate limited, counted in the sales funnel (``analytics.tracking`` skips the paths)
or given a session cookie; both are GET only, so CSRF never applies. Answers are JSON, never
cached.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from funnel.core.database import db
from funnel.core.limits import limiter
from funnel.core.migrations import EXTENSION as MIGRATIONS
from funnel.core.migrations import head_revisions

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)
CHECK_TIMEOUT_SECONDS = 2.0
LIVE_PATHS = ("/healthz", "/health/live")
READY_PATHS = ("/readyz", "/health/ready")


def init_app(app: Flask) -> None:
    limiter.exempt(bp)
    app.register_blueprint(bp)


def _answer(body: dict[str, Any], status: int) -> tuple[Response, int]:
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, status


def live() -> tuple[Response, int]:
    return _answer({"status": "ok"}, 200)


def ready() -> tuple[Response, int]:
    checks: dict[str, Callable[[], str | None]] = {"database": _database, "migrations": _migrations}
    config = current_app.config
    if config.get("REDIS_URL"):
        checks["redis"] = lambda: _redis(config["REDIS_URL"])
    if config.get("CELERY_BROKER_URL"):
        checks["broker"] = lambda: _broker(config["CELERY_BROKER_URL"])
    components: dict[str, dict[str, str]] = {}
    for name, check in checks.items():
        if name == "migrations" and "database" in _failed(components):
            components[name] = {"status": "unknown", "detail": "the database does not answer"}
            continue
        try:
            problem = check()
        except Exception as error:  # any failure of a dependency is "not ready", never a 500
            problem = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
        components[name] = (
            {"status": "ok"} if problem is None else {"status": "failing", "detail": problem}
        )
    failing = _failed(components)
    if failing:
        log.warning("not ready: %s", ", ".join(failing))
        body = {"status": "failing", "failing": failing, "components": components}
        return _answer(body, 503)
    return _answer({"status": "ok", "components": components}, 200)


for _path in LIVE_PATHS:
    bp.add_url_rule(_path, endpoint=f"live_{_path.strip('/').replace('/', '_')}", view_func=live)
for _path in READY_PATHS:
    bp.add_url_rule(_path, endpoint=f"ready_{_path.strip('/').replace('/', '_')}", view_func=ready)


def _failed(components: dict[str, dict[str, str]]) -> list[str]:
    return [name for name, result in components.items() if result["status"] != "ok"]


def _database() -> str | None:
    try:
        db.session.execute(text("SELECT 1"))
    finally:
        db.session.rollback()
    return None


def _migrations() -> str | None:
    """The database's revision against the newest migration shipped with this code."""
    # Read from the scripts once per process, without loading Alembic into a web worker.
    heads = set(head_revisions(current_app.extensions[MIGRATIONS].directory))
    try:
        # The version table read directly: alembic's own reader logs two lines per probe.
        current = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    except SQLAlchemyError:
        current = set()  # no version table: never migrated
    finally:
        db.session.rollback()
    if current != heads:
        return (
            f"the database is at {', '.join(sorted(current)) or 'no revision'}, the code "
            f"needs {', '.join(sorted(heads))}: run flask db upgrade"
        )
    return None


def _redis(url: str) -> str | None:
    import redis

    client = redis.Redis.from_url(
        url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()
    return None


def _broker(url: str) -> str | None:
    """A Redis broker is pinged; other brokers (AMQP) must accept a TCP connection."""
    parts = urlsplit(url)
    if parts.scheme.startswith("redis"):
        return _redis(url)
    if parts.scheme == "memory":
        return None
    default_port = 5671 if parts.scheme == "amqps" else 5672
    with socket.create_connection(
        (parts.hostname or "localhost", parts.port or default_port), timeout=CHECK_TIMEOUT_SECONDS
    ):
        return None
