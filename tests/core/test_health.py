"""Health endpoints: alive without the database, ready when every dependency answers."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import func, select

from funnel import create_app
from funnel.analytics.models import FunnelEvent
from funnel.core.database import db

pytestmark = pytest.mark.story("US-52")

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"}
# Nothing listens on port 1 of this machine: a Redis that does not answer.
CLOSED_REDIS = "redis://127.0.0.1:1/0"


@pytest.mark.parametrize("path", ["/healthz", "/health/live"])
def test_alive_answers_ok_without_cookie(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers=BROWSER)

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("path", ["/readyz", "/health/ready"])
def test_ready_with_a_real_database(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers=BROWSER)

    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "components": {"database": {"status": "ok"}, "migrations": {"status": "ok"}},
    }
    assert "Set-Cookie" not in response.headers


def test_probes_are_not_counted_in_the_funnel(client: FlaskClient) -> None:
    for path in ("/healthz", "/health/live", "/readyz", "/health/ready"):
        assert client.get(path, headers=BROWSER).status_code == 200

    assert db.session.scalar(select(func.count()).select_from(FunnelEvent)) == 0


@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_probes_are_never_rate_limited(client: FlaskClient) -> None:
    statuses = {client.get("/readyz").status_code for _ in range(30)}
    statuses |= {client.get("/healthz").status_code for _ in range(30)}

    assert statuses == {200}


@pytest.mark.config(REDIS_URL=CLOSED_REDIS)
def test_ready_is_503_naming_redis_when_it_does_not_answer(client: FlaskClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "failing"
    assert body["failing"] == ["redis"]
    assert body["components"]["database"] == {"status": "ok"}
    assert body["components"]["redis"]["status"] == "failing"
    assert body["components"]["redis"]["detail"].startswith("ConnectionError")
    # the liveness probe does not care: restarting would not bring Redis back
    assert client.get("/healthz").status_code == 200


@pytest.mark.config(CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:1//")
def test_ready_is_503_naming_the_broker_when_it_does_not_answer(client: FlaskClient) -> None:
    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.get_json()["failing"] == ["broker"]
    assert "guest:guest" not in response.get_data(as_text=True)


def test_ready_names_migrations_not_at_head(tmp_path: Path) -> None:
    # given a database one migration behind the code (deployed before `flask db upgrade`)
    app = create_app(
        {
            "TESTING": True,
            "FUNNEL_ENV": "test",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'behind.db'}",
        }
    )
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="0023_search_index")

    head = ScriptDirectory(app.extensions["migrate"].directory).get_current_head()

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    body = response.get_json()
    assert body["failing"] == ["migrations"]
    assert body["components"]["migrations"] == {
        "status": "failing",
        "detail": f"the database is at 0023_search_index, the code needs {head}: "
        "run flask db upgrade",
    }
    with app.app_context():
        db.engine.dispose()


def test_ready_names_the_database_when_it_does_not_answer(tmp_path: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "FUNNEL_ENV": "test",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/shop",
        }
    )

    response = app.test_client().get("/readyz")
    alive = app.test_client().get("/healthz")

    assert response.status_code == 503
    body = response.get_json()
    assert body["failing"] == ["database", "migrations"]
    assert body["components"]["database"]["detail"].startswith("OperationalError")
    assert body["components"]["migrations"]["status"] == "unknown"
    assert alive.status_code == 200


def test_the_health_paths_need_no_session_or_csrf(app: Flask) -> None:
    # a probe with no cookie, no token: nothing about a session is asked or given
    client = app.test_client(use_cookies=False)

    response = client.get("/health/ready")

    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
