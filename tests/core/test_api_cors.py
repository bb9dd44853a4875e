"""CORS: off unless origins are configured; then only those origins, without credentials."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel import create_app
from funnel.config import ConfigurationError

SHOP = "https://shop.example.com"
PREFLIGHT = {
    "Origin": SHOP,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
}


def test_by_default_no_origin_is_allowed(client: FlaskClient) -> None:
    response = client.get("/api/v1/categories", headers={"Origin": SHOP})
    preflight = client.options("/api/v1/carts", headers=PREFLIGHT)

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Origin" in response.headers["Vary"]


@pytest.mark.config(CORS_ORIGINS=(SHOP,))
def test_a_configured_origin_may_call_the_api(client: FlaskClient) -> None:
    response = client.get("/api/v1/categories", headers={"Origin": SHOP})
    preflight = client.options("/api/v1/carts", headers=PREFLIGHT)

    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Idempotent-Replayed" in response.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == SHOP
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, POST, PATCH, DELETE"
    assert {
        name.strip().lower()
        for name in preflight.headers["Access-Control-Allow-Headers"].split(",")
    } == {"authorization", "content-type", "idempotency-key", "cart-secret", "funnel-visitor"}


@pytest.mark.config(CORS_ORIGINS=(SHOP,))
def test_other_origins_and_the_pages_get_no_cors_headers(client: FlaskClient) -> None:
    stranger = client.get("/api/v1/categories", headers={"Origin": "https://evil.example"})
    page = client.get("/", headers={"Origin": SHOP})

    assert "Access-Control-Allow-Origin" not in stranger.headers
    assert "Access-Control-Allow-Origin" not in page.headers


@pytest.mark.backends("sqlite")
def test_origins_are_read_from_the_environment_and_checked(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUNNEL_CORS_ORIGINS", "https://a.example.com, http://localhost:3000/")
    configured = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    monkeypatch.setenv("FUNNEL_CORS_ORIGINS", "shop.example.com")

    with pytest.raises(ConfigurationError, match="FUNNEL_CORS_ORIGINS"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert configured.config["CORS_ORIGINS"] == (
        "https://a.example.com",
        "http://localhost:3000",
    )
