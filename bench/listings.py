"""Category page and search as the catalogue grows: in process, at 1,000 and 100,000 products.

    python -m bench.listings [--sizes 1000 100000] [--runs 20] [--save FILE] [--before FILE]

For each size, builds a scratch SQLite shop with the demo catalogue and answers each page
``--runs`` times with Flask's test client after one warm-up (no server, no network: the
application's own time), counting the SQL statements of one request. Two states: a warm worker
at an unchanged catalogue (what nearly every request meets), and the first request after a
catalogue change (every page's facet counts counted again). ``--save`` keeps the figures as
JSON; ``--before`` adds those of an earlier run (the code before a change) to the table of
``bench/results.md``. The target (issue 14): each page at 100,000 products within 1.5x of its
time at 1,000, and as many statements at both sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from bench.pages import write_section
from funnel import create_app
from funnel.catalog import services as catalog
from funnel.catalog.models import Product
from funnel.demo.catalogue import load_demo_catalogue
from funnel.extensions import db

PAGES = {
    "category": "/c/clothing",
    "category, filtered and sorted": "/c/clothing?size=M&sort=price-asc",
    "search": "/search?q=lamp",
}
TARGET_RATIO = 1.5


def build_shop(scratch: Path, products: int) -> Flask:
    from flask_migrate import upgrade

    app = create_app(
        {
            "FUNNEL_ENV": "test",
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{scratch / 'funnel.db'}",
            "MEDIA_ROOT": str(scratch / "media"),
            "RATELIMIT_ENABLED": False,
            # Every page rendered: a page kept for unknown visitors (US-75) runs no listing.
            "PAGE_CACHE_SECONDS": 0,
        }
    )
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        load_demo_catalogue(products, progress=False)
    return app


def change_catalogue(app: Flask) -> None:
    """A staff edit that changes no listing's content (the first product's featured flag): a
    new catalogue version all the same."""
    with app.app_context():
        product = db.session.scalars(sa.select(Product).order_by(Product.id).limit(1)).one()
        catalog.update_product(product.id, is_featured=not product.is_featured)
        db.session.remove()


def statements_of(app: Flask, path: str, *, changed: bool) -> int:
    counted: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            counted.append(statement)

    with app.app_context():
        engine = db.engine
    if changed:
        change_catalogue(app)
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        assert app.test_client().get(path).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return len(counted)


def milliseconds(app: Flask, path: str, runs: int, *, changed: bool) -> float:
    """The median time of one request, at an unchanged catalogue or just after a change."""
    client = app.test_client()
    assert client.get(path).status_code == 200
    times = []
    for _ in range(runs):
        if changed:
            change_catalogue(app)
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return statistics.median(times)


def measure(products: int, runs: int) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="funnel-bench-listings-") as scratch:
        started = time.perf_counter()
        app = build_shop(Path(scratch), products)
        print(f"{products:,} products loaded in {time.perf_counter() - started:.0f} s")
        for name, path in PAGES.items():
            figures[name] = {
                "warm_ms": milliseconds(app, path, runs, changed=False),
                "changed_ms": milliseconds(app, path, max(3, runs // 4), changed=True),
                "warm_statements": statements_of(app, path, changed=False),
                "changed_statements": statements_of(app, path, changed=True),
            }
            print(products, name, figures[name])
        with app.app_context():
            db.engine.dispose()
    return figures


def table(figures: dict[str, Any], small: str, large: str, label: str) -> list[str]:
    rows = []
    for name, path in PAGES.items():
        low, high = figures[small][name], figures[large][name]
        for state, key in (("unchanged", "warm"), ("just changed", "changed")):
            milliseconds, statements = f"{key}_ms", f"{key}_statements"
            rows.append(
                f"| {label} | {name} (`{path}`) | {state} | {low[milliseconds]:.1f} "
                f"| {high[milliseconds]:.1f} | {high[milliseconds] / low[milliseconds]:.2f} "
                f"| {low[statements]:.0f} / {high[statements]:.0f} |"
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs=2, default=[1_000, 100_000])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--save", type=Path)
    parser.add_argument("--before", type=Path)
    options = parser.parse_args()
    load = os.getloadavg()[0]
    small, large = (str(size) for size in options.sizes)
    figures = {size: measure(int(size), options.runs) for size in (small, large)}
    if options.save:
        options.save.write_text(json.dumps(figures, indent=2))
    rows = table(figures, small, large, "now")
    if options.before:
        rows = table(json.loads(options.before.read_text()), small, large, "before") + rows
    lines = [
        "# Listings as the catalogue grows",
        "",
        f"`python -m bench.listings --runs {options.runs}`: scratch SQLite shops with the demo",
        f"catalogue ({int(small):,} and {int(large):,} products), each page answered in process",
        f"by Flask's test client ({os.cpu_count()} cores; median of {options.runs} requests after",
        "a warm-up; just after a change: a catalogue edit before each request). Statements: SQL",
        "statements of one request at each size. Target (issue 14): large/small within",
        f"{TARGET_RATIO}x, the same statements at both sizes. Load average {load:.1f} when the",
        "run began (other work on the machine makes every figure slower, not the ratios).",
        "",
        f"| code | page | catalogue | ms at {int(small):,} | ms at {int(large):,} | ratio | "
        "statements |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
        *rows,
    ]
    write_section(lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
