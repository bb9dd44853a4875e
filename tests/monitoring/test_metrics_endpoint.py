"""US-51: who may read /metrics, what it costs a scrape, and every worker's values summed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel import config
from tests.monitoring.scrape import parse, value

pytestmark = [pytest.mark.story("US-51"), pytest.mark.backends("sqlite")]

TOKEN = "scrape-token-0123456789"
PROMETHEUS_HOST = {"REMOTE_ADDR": "10.1.2.3"}
OTHER_HOST = {"REMOTE_ADDR": "192.0.2.7"}


@pytest.fixture
def production_mode(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app answers as in production (a production app built here would be refused for
    the test database and settings: ``core.production``)."""
    monkeypatch.setitem(app.config, "FUNNEL_ENV", "production")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_in_test_mode_with_no_protection_configured_metrics_are_served(client: FlaskClient) -> None:
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    assert "# TYPE funnel_http_requests_total counter" in response.get_data(as_text=True)


@pytest.mark.usefixtures("production_mode")
def test_in_production_with_no_protection_configured_metrics_are_not_found(
    client: FlaskClient,
) -> None:
    response = client.get("/metrics", headers=bearer(TOKEN))

    assert response.status_code == 404
    assert "funnel_" not in response.get_data(as_text=True)


@pytest.mark.config(METRICS_TOKEN=TOKEN)
@pytest.mark.usefixtures("production_mode")
def test_a_token_is_required_and_must_be_the_right_one(client: FlaskClient) -> None:
    missing = client.get("/metrics")
    wrong = client.get("/metrics", headers=bearer("not-the-token"))
    other_scheme = client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
    right = client.get("/metrics", headers=bearer(TOKEN))

    assert [missing.status_code, wrong.status_code, other_scheme.status_code] == [401, 401, 401]
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert "funnel_" not in wrong.get_data(as_text=True)
    assert right.status_code == 200
    assert "funnel_http_requests_total" in right.get_data(as_text=True)


@pytest.mark.config(METRICS_ALLOW=("10.0.0.0/8", "::1"))
@pytest.mark.usefixtures("production_mode")
def test_only_allowed_addresses_may_scrape_when_an_allow_list_is_set(client: FlaskClient) -> None:
    allowed = client.get("/metrics", environ_overrides=PROMETHEUS_HOST)
    other = client.get("/metrics", environ_overrides=OTHER_HOST)
    other_with_a_token = client.get("/metrics", environ_overrides=OTHER_HOST, headers=bearer(TOKEN))

    assert allowed.status_code == 200
    assert [other.status_code, other_with_a_token.status_code] == [404, 404]


@pytest.mark.config(METRICS_ALLOW=("10.0.0.0/8",), METRICS_TOKEN=TOKEN)
@pytest.mark.usefixtures("production_mode")
def test_with_both_set_the_address_and_the_token_are_both_required(client: FlaskClient) -> None:
    both = client.get("/metrics", environ_overrides=PROMETHEUS_HOST, headers=bearer(TOKEN))
    no_token = client.get("/metrics", environ_overrides=PROMETHEUS_HOST)
    other_host = client.get("/metrics", environ_overrides=OTHER_HOST, headers=bearer(TOKEN))

    assert [both.status_code, no_token.status_code, other_host.status_code] == [200, 401, 404]


def test_a_scrape_sets_no_cookie_and_is_not_counted_in_the_funnel(client: FlaskClient) -> None:
    client.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"

    first = client.get("/metrics")
    second = client.get("/metrics")

    assert (first.headers.get("Set-Cookie"), second.headers.get("Set-Cookie")) == (None, None)
    assert value(parse(second.get_data(as_text=True)), "funnel_sales_funnel_events_total") == 0


@pytest.mark.config(RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="2 per minute")
def test_scrapes_are_not_rate_limited_where_pages_are(client: FlaskClient) -> None:
    # given a shop that limits every page to 2 requests a minute
    pages = [client.get("/cart").status_code for _ in range(3)]

    # when Prometheus scrapes five times
    scrapes = [client.get("/metrics").status_code for _ in range(5)]

    # then the pages were limited and the scrapes were not
    assert pages == [200, 200, 429]
    assert scrapes == [200] * 5


def test_an_invalid_allow_list_stops_the_shop_at_start() -> None:
    with pytest.raises(config.ConfigurationError, match=r"'10\.0\.0\.300/8' is not an IP address"):
        config.load_settings(
            "/nonexistent", environ={"FUNNEL_METRICS_ALLOW": "127.0.0.1,10.0.0.300/8"}
        )


def test_the_settings_read_the_token_the_allow_list_and_the_multiprocess_folder() -> None:
    settings = config.load_settings(
        "/nonexistent",
        environ={
            "FUNNEL_METRICS_TOKEN": TOKEN,
            "FUNNEL_METRICS_ALLOW": " 10.0.0.0/8 , ::1 ",
            "PROMETHEUS_MULTIPROC_DIR": "/run/funnel-metrics",
        },
    )

    assert settings["METRICS_TOKEN"] == TOKEN
    assert settings["METRICS_ALLOW"] == ("10.0.0.0/8", "::1")
    assert settings["METRICS_MULTIPROCESS_DIR"] == "/run/funnel-metrics"


WORKER = """
from funnel.core import metrics
metrics.ORDERS_PLACED.labels("EUR").inc()
metrics.ORDERS_PLACED_MINOR.labels("EUR").inc({amount})
metrics.HTTP_REQUEST_SECONDS.labels("/", "GET").observe({seconds})
"""


def run_worker(folder: Path, amount: int, seconds: float) -> None:
    """A separate process that counts into the shared folder, as a gunicorn worker does."""
    environment = {"PATH": "/usr/bin:/bin", "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    subprocess.run(
        [sys.executable, "-c", WORKER.format(amount=amount, seconds=seconds)],
        env=environment,
        check=True,
        timeout=60,
    )


def test_the_values_of_two_processes_sharing_a_multiprocess_folder_are_summed(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    # given two worker processes that each placed an order and answered a page
    run_worker(tmp_path, 1500, 0.02)
    run_worker(tmp_path, 2500, 0.3)
    # and the shop in multiprocess mode over their folder
    app.config["METRICS_MULTIPROCESS_DIR"] = str(tmp_path)

    # when Prometheus scrapes
    samples = parse(client.get("/metrics").get_data(as_text=True))

    # then it reads both processes' values added up
    assert value(samples, "funnel_orders_placed_total", currency="EUR") == 2
    assert value(samples, "funnel_orders_placed_minor_total", currency="EUR") == 4000
    page = {"endpoint": "/", "method": "GET"}
    assert value(samples, "funnel_http_request_duration_seconds_count", **page) == 2
    assert value(samples, "funnel_http_request_duration_seconds_bucket", **page, le="0.025") == 1
    assert value(samples, "funnel_http_request_duration_seconds_bucket", **page, le="0.5") == 2
