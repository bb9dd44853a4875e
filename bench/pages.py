"""Storefront throughput: each page under wrk, against the ceiling of a bare Flask app.

    python -m bench.pages [--products 10000] [--seconds 10] [--connections 32]

Builds a scratch SQLite shop with the demo catalogue, serves it with gunicorn (2 sync workers,
as the bare app), loads each page with wrk and writes ``bench/results.md``. Figures vary with
the machine: compare the ratios to the bare app, not the raw numbers.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.support.live_server import LiveServer, free_port

RESULTS = Path(__file__).with_name("results.md")


@dataclass
class Measure:
    name: str
    path: str
    requests_per_second: float
    latency_p50_ms: float
    latency_p99_ms: float
    errors: int


def _milliseconds(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, seconds: int, connections: int) -> tuple[float, float, float, int]:
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _milliseconds(re.search(r"^\s*50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _milliseconds(re.search(r"^\s*99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    errors_match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return rate, p50, p99, int(errors_match.group(1)) if errors_match else 0


def serve_bare_flask() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--no-control-socket",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "bench.hello:app",
        ],
        cwd=Path(__file__).parent.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return server, url
        except OSError:
            time.sleep(0.1)  # polling a starting server
    server.kill()
    raise RuntimeError("the bare Flask app did not start")


def sample_paths(base_url: str) -> dict[str, str]:
    """A real category, product and search word, read from the home page and category page."""
    home = urllib.request.urlopen(base_url + "/").read().decode()  # noqa: S310
    category = re.search(r'href="(/c/[^"]+)"', home).group(1)  # type: ignore[union-attr]
    listing = urllib.request.urlopen(base_url + category).read().decode()  # noqa: S310
    product = re.search(r'href="(/p/[^"]+)"', listing).group(1)  # type: ignore[union-attr]
    word = product.removeprefix("/p/").split("-")[0]
    return {
        "home": "/",
        "category": category,
        "category, sorted by price": f"{category}?sort=price-asc",
        "product": product,
        "search": f"/search?q={word}",
        "cart (empty)": "/cart",
    }


def write_results(products: int, ceiling: Measure, measures: list[Measure], args: str) -> None:
    lines = [
        "# Storefront throughput",
        "",
        f"`python -m bench.pages {args}`: SQLite, {products} demo products, gunicorn with 2 sync",
        "workers, wrk with 2 threads. The ratio compares each page with a bare Flask app served",
        "the same way (the ceiling); raw figures depend on the machine.",
        "",
        "| page | path | req/s | vs bare Flask | p50 ms | p99 ms | non-2xx |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for m in [ceiling, *measures]:
        ratio = m.requests_per_second / ceiling.requests_per_second
        lines.append(
            f"| {m.name} | `{m.path}` | {m.requests_per_second:,.0f} | {ratio:.1%} | "
            f"{m.latency_p50_ms:.1f} | {m.latency_p99_ms:.1f} | {m.errors} |"
        )
    RESULTS.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: make bench installs it")

    with tempfile.TemporaryDirectory(prefix="funnel-bench-") as scratch:
        bare, bare_url = serve_bare_flask()
        try:
            ceiling = Measure(
                "bare Flask", "/", *run_wrk(bare_url, options.seconds, options.connections)
            )
        finally:
            bare.terminate()
            bare.wait()
        shop = LiveServer(Path(scratch), demo_products=options.products, workers=2)
        shop.start()
        try:
            measures = [
                Measure(
                    name, path, *run_wrk(shop.base_url + path, options.seconds, options.connections)
                )
                for name, path in sample_paths(shop.base_url).items()
            ]
        finally:
            shop.stop()
    args = f"--products {options.products} --seconds {options.seconds}"
    write_results(options.products, ceiling, measures, args)
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
