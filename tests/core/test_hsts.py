"""HTTP Strict Transport Security: production tells browsers to use HTTPS only, for a year and
(by default) for every subdomain; development and tests over plain http send no such header."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel import create_app
from funnel.config import load_settings
from tests.support.production import production_environment

ONE_YEAR = 365 * 24 * 60 * 60


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Flask:
    """A shop configured as an operator configures production, from the environment alone."""
    for name, value in production_environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    return create_app()


def test_production_sends_hsts_for_a_year_with_subdomains(production: Flask) -> None:
    response = production.test_client().get("/no-such-page", base_url="https://shop.example.com")

    assert response.status_code == 404
    assert response.headers["Strict-Transport-Security"] == f"max-age={ONE_YEAR}; includeSubDomains"


def test_development_and_tests_over_http_send_no_hsts(client: FlaskClient) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_settings_per_environment(tmp_path: Path) -> None:
    production = {"FUNNEL_ENV": "production", "FUNNEL_SECRET_KEY": "k"}

    assert load_settings(str(tmp_path), production)["HSTS_SECONDS"] == ONE_YEAR
    assert load_settings(str(tmp_path), production)["HSTS_INCLUDE_SUBDOMAINS"] is True
    assert load_settings(str(tmp_path), {"FUNNEL_ENV": "development"})["HSTS_SECONDS"] == 0
    assert load_settings(str(tmp_path), {"FUNNEL_ENV": "test"})["HSTS_SECONDS"] == 0


@pytest.mark.config(HSTS_SECONDS=2 * ONE_YEAR, HSTS_INCLUDE_SUBDOMAINS=False)
def test_the_operator_sets_the_age_and_leaves_subdomains_out(client: FlaskClient) -> None:
    response = client.get("/api/v1/categories")

    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == f"max-age={2 * ONE_YEAR}"
