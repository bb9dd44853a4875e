"""US-51: the shipped Grafana dashboard, proven against a real Prometheus that scraped a shop.

Grafana cannot be installed on this machine, so the dashboard is proven the way Grafana would use
it: Debian's Prometheus (``make monitoring-tools``) runs the shipped scrape config and alert rules
against a shop under gunicorn with ``deploy/gunicorn.conf.py`` (two workers, multiprocess metrics)
while shoppers browse, buy, see a card declined and empty a variant's stock; then every query of
every panel, with Grafana's interval variables filled in, must return data. Prometheus missing
skips locally and fails under ``CI=true``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from funnel import create_app
from funnel.catalog.models import Product
from funnel.extensions import db
from tests.checkout.helpers import CARD_DECLINED, CARD_SUCCEEDS, expiry
from tests.conftest import missing_service
from tests.factories.inventory import stocked_variant
from tests.support.live_server import free_port, run_flask, shop_environment

pytestmark = pytest.mark.story("US-51")

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "funnel.json"
PROMETHEUS = ROOT / "deploy" / "prometheus"
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
TOKEN = "a-metrics-token-for-the-dashboard-test"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
# What Grafana puts in place of its variables when it sends a panel's query.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "5m"}
PURCHASES = 6
GUNICORN = (sys.executable, "-m", "gunicorn")
APP = "funnel:create_app()"


def panels() -> list[dict[str, Any]]:
    """Every panel of the dashboard but its row headings."""
    document = json.loads(DASHBOARD.read_text())
    return [panel for panel in document["panels"] if panel["type"] != "row"]


def queries() -> list[tuple[str, str]]:
    """(panel title and query id, PromQL as Grafana sends it) for every query of every panel."""
    found = []
    for panel in panels():
        for target in panel["targets"]:
            expression = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expression = expression.replace(variable, value)
            found.append((f"{panel['title']} {target['refId']}", expression))
    return found


def test_every_panel_reads_the_provisioned_data_source_and_fits_the_grid() -> None:
    document = json.loads(DASHBOARD.read_text())
    source = yaml.safe_load((GRAFANA / "provisioning/datasources/funnel.yml").read_text())
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    in_compose = yaml.safe_load(compose["configs"]["grafana_datasource"]["content"])
    uid = source["datasources"][0]["uid"]

    assert in_compose["datasources"][0]["uid"] == uid
    assert len({panel["id"] for panel in document["panels"]}) == len(document["panels"])
    cells: set[tuple[int, int]] = set()
    for panel in document["panels"]:
        place = panel["gridPos"]
        assert place["x"] + place["w"] <= 24, panel["title"]
        taken = {
            (place["x"] + column, place["y"] + line)
            for column in range(place["w"])
            for line in range(place["h"])
        }
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        cells |= taken
    for panel in panels():
        assert panel["datasource"]["uid"] == uid, panel["title"]
        assert panel["description"], panel["title"]
        assert [target["datasource"]["uid"] for target in panel["targets"]] == [uid] * len(
            panel["targets"]
        )
    assert len(queries()) == 34


@dataclass(frozen=True)
class Scraped:
    """A Prometheus that has scraped a shop after its shoppers were done."""

    prometheus: str
    orders: int

    def query(self, expression: str) -> list[dict[str, Any]]:
        address = self.prometheus + "/api/v1/query?" + urllib.parse.urlencode({"query": expression})
        with urllib.request.urlopen(address, timeout=30) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        return body["data"]["result"]


def _get(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _post(url: str, body: dict[str, Any] | None, headers: dict[str, str]) -> tuple[int, Any]:
    data = json.dumps(body or {}).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers=headers | {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _wait(what: str, check: Any, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited:\n{log.read_text(errors='replace')}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)  # polling a starting server
    raise RuntimeError(f"{what} did not come up:\n{log.read_text(errors='replace')}")


def _buy(base: str, variant_id: int, slug: str, visitor: str, number: str) -> int:
    """A headless shopper's purchase over the API; the completion's status code."""
    counted = {"Funnel-Visitor": visitor}
    assert _get(f"{base}/api/v1/products/{slug}", counted) == 200
    status, cart = _post(f"{base}/api/v1/carts", None, counted)
    assert status == 201, cart
    headers = counted | {"Cart-Secret": cart["secret"]}
    lines = f"{base}/api/v1/carts/{cart['id']}/lines"
    status, added = _post(lines, {"variant_id": variant_id, "quantity": 1}, headers)
    assert status == 201, added
    address = {
        "full_name": "Ann Smith",
        "line1": "1 High Street",
        "city": "Bristol",
        "postal_code": "BS1 4DJ",
        "country_code": "gb",
    }
    body = {
        "cart_id": cart["id"],
        "email": f"{visitor}@example.com",
        "shipping_address": address,
        "shipping_method": "standard",
    }
    status, checkout = _post(f"{base}/api/v1/checkouts", body, headers)
    assert status == 201, checkout
    card = {"number": number, "expiry": expiry(), "cvc": "123"}
    payment = {"payment_method": "test", "card": card}
    status, _ = _post(f"{base}/api/v1/checkouts/{checkout['id']}/complete", payment, headers)
    return status


def _seed(database_url: str) -> tuple[tuple[int, str], tuple[int, str]]:
    """A variant with plenty of stock and one with a single unit: (variant id, product slug)."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "seed", "SQLALCHEMY_DATABASE_URI": database_url}
    )
    with app.app_context():
        variants = stocked_variant(50), stocked_variant(1)
        plenty, last = (
            (variant.id, db.session.get(Product, variant.product_id).slug) for variant in variants
        )
        db.engine.dispose()
    return plenty, last


def _shop_under_load(base: str, plenty: tuple[int, str], last: tuple[int, str]) -> int:
    """Browsers, buyers, a declined card and the last unit sold: the orders placed."""
    for visitor in range(PURCHASES):
        browser = {
            "User-Agent": BROWSER,
            "Cookie": f"funnel_visitor=dashboard-browser-{visitor:04d}",
        }
        assert _get(base + "/", browser) == 200
        assert _get(f"{base}/p/{plenty[1]}", browser) == 200
        assert _get(f"{base}/no-such-page-{visitor}", browser) == 404
        assert (
            _buy(base, plenty[0], plenty[1], f"dashboard-buyer-{visitor:04d}", CARD_SUCCEEDS) == 200
        )
    assert _buy(base, plenty[0], plenty[1], "dashboard-declined-0001", CARD_DECLINED) == 402
    assert _buy(base, last[0], last[1], "dashboard-last-unit-0001", CARD_SUCCEEDS) == 200
    return PURCHASES + 1


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scraped]:
    binary = shutil.which("prometheus")
    if binary is None:
        missing_service("Prometheus is not installed (make monitoring-tools)")
    assert binary is not None
    folder = tmp_path_factory.mktemp("dashboard")
    instance, metrics = folder / "instance", folder / "metrics"
    instance.mkdir()
    metrics.mkdir()
    port, prometheus_port = free_port(), free_port()
    database_url = f"sqlite:///{instance / 'funnel.db'}"
    environment = shop_environment(
        instance,
        {
            "FUNNEL_DATABASE_URL": database_url,
            "FUNNEL_SECRET_KEY": "a-secret-key-for-this-test-only",
            "FUNNEL_BASE_URL": f"http://127.0.0.1:{port}",
            "FUNNEL_METRICS_TOKEN": TOKEN,
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "2",
        },
    )
    run_flask(environment, "db", "upgrade", "heads")
    plenty, last = _seed(database_url)
    token_file = folder / "funnel-metrics-token"
    token_file.write_text(TOKEN + "\n")
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    config["global"] |= {"scrape_interval": "1s", "evaluation_interval": "1s"}
    job = config["scrape_configs"][0]
    job["authorization"]["credentials_file"] = str(token_file)
    job["static_configs"] = [{"targets": [f"127.0.0.1:{port}"]}]
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    shutil.copy(PROMETHEUS / "alerts.yml", folder / "alerts.yml")
    shop_log, prometheus_log = folder / "gunicorn.log", folder / "prometheus.log"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with shop_log.open("wb") as output:
            processes.append(
                subprocess.Popen(
                    [*GUNICORN, "-c", str(GUNICORN_CONFIG), "--no-control-socket", APP],
                    env=environment,
                    cwd=instance,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            )
        base = f"http://127.0.0.1:{port}"
        _wait("gunicorn", lambda: _get(base + "/healthz") == 200, processes[0], shop_log)
        with prometheus_log.open("wb") as output:
            processes.append(
                subprocess.Popen(
                    [
                        binary,
                        f"--config.file={folder / 'prometheus.yml'}",
                        f"--storage.tsdb.path={folder / 'data'}",
                        f"--web.listen-address=127.0.0.1:{prometheus_port}",
                    ],
                    cwd=folder,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            )
        address = f"http://127.0.0.1:{prometheus_port}"
        _wait("Prometheus", lambda: _get(address + "/-/ready") == 200, processes[1], prometheus_log)
        orders = _shop_under_load(base, plenty, last)
        found = Scraped(address, orders)
        # then wait for three scrapes that saw every order, so that every rate has two points
        seen = 'min(count_over_time(funnel_orders_placed_total{job="funnel"}[1m]))'
        _wait(
            "three scrapes after the shoppers",
            lambda: (
                [float(row["value"][1]) for row in found.query(seen)] >= [3.0]
                and found.query('sum(funnel_orders_placed_total{job="funnel"})')[0]["value"][1]
                == str(orders)
            ),
            processes[1],
            prometheus_log,
        )
        yield found
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_every_dashboard_query_returns_data_from_a_scraped_shop(scraped: Scraped) -> None:
    empty = [title for title, expression in queries() if not scraped.query(expression)]

    assert empty == []


def test_the_scraped_counts_are_the_shop_s_across_both_workers(scraped: Scraped) -> None:
    paid = scraped.query('sum(funnel_sales_funnel_events_total{job="funnel",stage="order_paid"})')
    failed = scraped.query(
        'sum by (gateway) (funnel_payments_total{job="funnel",outcome="failed"})'
    )
    stock_outs = scraped.query('sum(funnel_stock_outs_total{job="funnel"})')
    alerts = scraped.query('count(ALERTS{job="funnel"}) or vector(0)')

    assert paid[0]["value"][1] == str(scraped.orders)
    assert [(row["metric"]["gateway"], row["value"][1]) for row in failed] == [("test", "1")]
    assert stock_outs[0]["value"][1] == "1"
    assert alerts[0]["value"][1] == "0"
