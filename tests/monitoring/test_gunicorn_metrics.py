"""US-51: under gunicorn with deploy/gunicorn.conf.py, /metrics sums every worker's requests."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from tests.monitoring.scrape import parse, value
from tests.support.live_server import free_port, run_flask, shop_environment

pytestmark = pytest.mark.story("US-51")

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"
REQUESTS = 40
APP = "funnel:create_app()"


def get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
        return response.status


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    """A shop under gunicorn with the deploy config, 2 workers and a metrics folder that holds
    a previous run's file (the config must empty it)."""
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "counter_999999.db").write_bytes(b"left by a previous run")
    port = free_port()
    environment = shop_environment(
        tmp_path,
        {
            "FUNNEL_SECRET_KEY": "a-secret-key-for-this-test-only",
            "FUNNEL_BASE_URL": f"http://127.0.0.1:{port}",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "2",
        },
    )
    run_flask(environment, "db", "upgrade", "heads")
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "--no-control-socket", APP],
        env=environment,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(base + "/metrics", process, tmp_path / "gunicorn.log")
        yield base, metrics, process
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def wait_until_answering(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    for _attempt in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log.read_text(errors='replace')}")
        try:
            get(url)
            return
        except OSError:
            subprocess.run(["sleep", "0.1"], check=True)  # polling a starting server
    raise RuntimeError(f"gunicorn did not answer:\n{log.read_text(errors='replace')}")


@pytest.mark.story("US-72")
def test_two_workers_requests_are_summed_and_a_long_search_url_is_served(
    shop: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    base, metrics, process = shop
    # given a shop whose metrics folder was emptied at start
    assert not (metrics / "counter_999999.db").exists()
    before = parse(urllib.request.urlopen(base + "/metrics", timeout=30).read().decode())

    # when 40 requests for the cart page are spread over its 2 workers
    statuses = [get(base + "/cart") for _ in range(REQUESTS)]
    # and a search filtered by 8 options of 10 long values each: a 10 kB request line
    options = [
        (f"option{name}", f"{value:03d}" + "x" * 97) for name in range(8) for value in range(10)
    ]
    search = base + "/search?" + urlencode([("q", "é" * 200), *options])

    # then every request is counted once, whichever worker answered
    assert statuses == [200] * REQUESTS
    assert len(search) > 8190
    assert get(search) == 200
    after = parse(urllib.request.urlopen(base + "/metrics", timeout=30).read().decode())
    cart = {"endpoint": "/cart", "method": "GET", "status": "200"}
    assert (
        value(after, "funnel_http_requests_total", **cart)
        - value(before, "funnel_http_requests_total", **cart)
        == REQUESTS
    )
    search_page = {"endpoint": "/search", "method": "GET", "status": "200"}
    assert value(after, "funnel_http_requests_total", **search_page) == 1

    # and when gunicorn stops, each worker's exit hook writes its minute in progress: the
    # shop's own request counts (the Operations page) hold the 41 pages, not the scrapes
    process.terminate()
    process.wait(timeout=30)
    engine = sa.create_engine(f"sqlite:///{metrics.parent / 'funnel.db'}")
    with engine.connect() as connection:
        requests = connection.execute(sa.text("SELECT SUM(requests) FROM request_minutes"))
        assert requests.scalar_one() == REQUESTS + 1
    engine.dispose()
