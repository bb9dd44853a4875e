"""Python CPU per storefront request, measured in process: where a page's time goes.

    python -m bench.page_profile [--products 10000] [--requests 200] [--runs 3] [--page PAGE]
                                 [--profile PAGE] [--visitor anonymous|counted] [--shop FOLDER]
                                 [--markdown FILE] [--kept-seconds SECONDS]

Builds a scratch SQLite shop with the demo catalogue (or reuses the one in ``--shop``, built
there on first use), makes the app in this process and, per page and visitor kind (a tool: no
browser, no visitor cookie; counted: a browser's User-Agent and a visitor cookie), warms the
page up, then takes the process CPU time (``time.process_time``) over ``--requests`` requests
of Flask's test client: the median of ``--runs`` runs, in milliseconds per request. No server
and no network: what remains is the shop's own Python work and its SQL, the cost that caps a
sync worker's requests per second. ``--profile PAGE`` prints a pyinstrument profile of that
page instead. Nothing is written unless ``--markdown FILE`` asks for the table.

Before and after the storefront speed work: 10,000 demo products on SQLite, development
settings (as ``bench.storefront`` serves the shop), CPU ms per request, median of 3 runs of
200 requests, the old and the new code run in turn on a 2-core machine (load average 0.2 to
0.9). The bare app does each page's minimum work (``bench.hello``):

| page | path | anonymous before | after | counted before | after |
| --- | --- | ---: | ---: | ---: | ---: |
| bare Flask | `/list` | 0.30 | 0.30 | | |
| bare Flask | `/one-query` | 0.19 | 0.19 | | |
| home | `/` | 6.39 | 2.42 | 6.35 | 2.21 |
| category | `/c/clothing` | 6.91 | 3.12 | 7.55 | 3.14 |
| category, filtered, sorted | `/c/clothing?size=XS&sort=price-asc` | 10.01 | 6.94 | 9.99 | 6.97 |
| search | `/search?q=bold` | 10.33 | 5.89 | 10.09 | 6.12 |
| product | `/p/bold-t-shirt-nova-1` | 6.39 | 2.03 | 6.50 | 2.18 |
| API product list | `/api/v1/products` | 3.43 | 2.11 | 3.86 | 2.21 |
| API product | `/api/v1/products/bold-t-shirt-nova-1` | 2.76 | 1.30 | 2.83 | 1.29 |

What is left on the filtered listing and search is mostly SQLite running their statements
and the rendering of 24 cards and the facets; see ``docs/architecture.md`` (Decisions).
"""

from __future__ import annotations

import argparse
import gc
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from flask import Flask
from tests.support.live_server import run_flask, shop_environment

from bench.api import shop_environment as environment_set_to
from bench.funnel_cost import counted_headers

API = "/api/v1"
VISITORS = ("anonymous", "counted")
# The bare app's routes: a listing's minimum work, and a product's.
BARE_PATHS = ("/list", "/one-query")
# Product views kept for a batch, as the shop's default: the counted visitor's view is queued.
SETTINGS = {"FUNNEL_ANALYTICS_BATCH_MILLISECONDS": "1000"}


def pages() -> dict[str, str]:
    """The storefront pages of the speed work, on the demo catalogue's names."""
    return {
        "home": "/",
        "category": "/c/clothing",
        "category, filtered and sorted": "/c/clothing?size=XS&sort=price-asc",
        "search": "/search?q=bold",
        "product": "/p/bold-t-shirt-nova-1",
        "API product list": f"{API}/products",
        "API product": f"{API}/products/bold-t-shirt-nova-1",
    }


def visitor_headers(visitor: str) -> dict[str, str]:
    return counted_headers() if visitor == "counted" else {}


def prepare_shop(folder: Path, products: int, kept_seconds: int = 0) -> dict[str, str]:
    """The shop's environment; its database is made and filled with the demo catalogue once.
    Pages are rendered afresh on every request unless ``kept_seconds`` keeps them."""
    settings = {**SETTINGS, "FUNNEL_PAGE_CACHE_SECONDS": str(kept_seconds)}
    environment = shop_environment(folder, settings)
    marker = folder / f".demo-{products}"
    if not marker.exists():
        run_flask(environment, "db", "upgrade", "heads")
        run_flask(environment, "demo", "--products", str(products))
        marker.touch()
    # Every run starts from the same file: the views a previous run wrote moved out of the WAL.
    with closing(sqlite3.connect(folder / "funnel.db")) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return environment


@contextmanager
def shop_app(environment: dict[str, str]) -> Iterator[Flask]:
    """The app made in this process on the scratch shop; pending product views written at the
    end, while the database is there."""
    from funnel import create_app
    from funnel.analytics.batches import write_batch
    from funnel.extensions import db

    with environment_set_to(environment):
        app = create_app()
    try:
        yield app
    finally:
        with app.app_context():
            write_batch(app)
            db.engine.dispose()


def cpu_ms_per_request(app: Flask, path: str, headers: dict[str, str], requests: int) -> float:
    """Process CPU time of ``requests`` GETs of ``path``, in milliseconds per request."""
    client = app.test_client()
    for _ in range(5):  # warm-up: caches per worker, compiled templates, the facet counts
        response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    gc.collect()  # each page starts with the same heap: no collection left over from another
    started = time.process_time()
    for _ in range(requests):
        client.get(path, headers=headers)
    return (time.process_time() - started) * 1000 / requests


def bare_app(folder: Path) -> Flask:
    """The bare Flask app of ``bench.hello`` on the shop's database: the ceiling's CPU."""
    os.environ["BENCH_DATABASE_URL"] = f"sqlite:///{folder / 'funnel.db'}"
    from bench.hello import app

    return app


def measure(
    app: Flask, requests: int, runs: int, names: list[str], bare: Flask | None = None
) -> dict[tuple[str, str], float]:
    """The median CPU ms per request of each page named and visitor kind (and of the bare
    app's ``/list`` and ``/one-query``, under the page name "bare")."""
    figures: dict[tuple[str, str], list[float]] = {}
    for _run in range(runs):
        if bare is not None:
            for path in BARE_PATHS:
                figure = cpu_ms_per_request(bare, path, {}, requests)
                figures.setdefault(("bare", path), []).append(figure)
        for name in names:
            path = pages()[name]
            for visitor in VISITORS:
                figure = cpu_ms_per_request(app, path, visitor_headers(visitor), requests)
                figures.setdefault((name, visitor), []).append(figure)
    return {key: statistics.median(values) for key, values in figures.items()}


def profile(app: Flask, path: str, headers: dict[str, str], requests: int) -> str:
    """A pyinstrument profile of ``requests`` GETs of ``path``, as text."""
    from pyinstrument import Profiler

    client = app.test_client()
    for _ in range(5):
        client.get(path, headers=headers)
    profiler = Profiler(interval=0.0002)
    with profiler:
        for _ in range(requests):
            client.get(path, headers=headers)
    return profiler.output_text(unicode=True, color=False, show_all=False)


def table(figures: dict[tuple[str, str], float], names: list[str]) -> list[str]:
    lines = ["| page | path | anonymous ms | counted ms |", "| --- | --- | ---: | ---: |"]
    for path in BARE_PATHS:
        if ("bare", path) in figures:
            lines.append(f"| bare Flask | `{path}` | {figures[('bare', path)]:.2f} | |")
    for name in names:
        path = pages()[name]
        anonymous, counted = (figures[(name, visitor)] for visitor in VISITORS)
        lines.append(f"| {name} | `{path}` | {anonymous:.2f} | {counted:.2f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page", choices=list(pages()), action="append", help="only these")
    parser.add_argument("--profile", choices=list(pages()), help="print this page's profile")
    parser.add_argument("--visitor", choices=VISITORS, default="anonymous")
    parser.add_argument("--shop", type=Path, help="a folder to keep the scratch shop in")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument(
        "--kept-seconds",
        type=int,
        default=0,
        help="FUNNEL_PAGE_CACHE_SECONDS (0: measure each page's rendering, not a kept copy)",
    )
    options = parser.parse_args()
    load_average = os.getloadavg()[0]

    with tempfile.TemporaryDirectory(prefix="funnel-bench-profile-") as scratch:
        folder = options.shop or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        environment = prepare_shop(folder.resolve(), options.products, options.kept_seconds)
        with shop_app(environment) as app:
            if options.profile:
                path = pages()[options.profile]
                print(profile(app, path, visitor_headers(options.visitor), options.requests))
                return
            names = options.page or list(pages())
            bare = bare_app(folder.resolve())
            figures = measure(app, options.requests, options.runs, names, bare)
    lines = [
        f"{options.products:,} products, {options.requests} requests, median of "
        f"{options.runs} runs, pages kept {options.kept_seconds} s, load average "
        f"{load_average:.2f} at the start",
        "",
        *table(figures, names),
    ]
    print("\n".join(lines))
    if options.markdown:
        options.markdown.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
