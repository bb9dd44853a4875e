"""Reports on a big shop (US-39, US-64): how long each report takes over 90 days of a long past.

    python -m bench.reports [--events 1000000] [--orders 100000] [--products 1000] [--runs 20]
                            [--postgresql URL] [--keep FOLDER] [--only NAME]

Builds a scratch SQLite shop (and, given ``--postgresql`` with a server's URL, a scratch
database on it) with the demo catalogue and the demo past (``flask demo --events --orders``:
a year of visits and paid orders), signs in as the demo admin and times each report page, its
CSV download and its staff API operation for the last 90 days, ``--runs`` times each after one
warm-up request, in process. Writes its section of ``bench/results.md``. The target: every
report under 1 s at the 95th percentile.

With ``--keep``, the SQLite shop is kept in that folder and the PostgreSQL database under a
name made of the sizes, and a later run with the same sizes measures them again (after
upgrading their schema) instead of building them anew: seeding a million events takes minutes.
``--only`` measures the reports whose name holds the text (repeatable).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bench.pages import write_section
from bench.staff_lists import signed_in_admin
from funnel import create_app
from funnel.accounts.services.api_tokens import create_api_token
from funnel.analytics import summaries
from funnel.core import clock
from funnel.demo import DEMO_ACCOUNTS, create_demo_accounts, load_demo_catalogue
from funnel.demo.history import load_demo_history
from funnel.extensions import db
from funnel.settings import queries as settings_queries

TARGET_MILLISECONDS = 1000
DAYS = 90


def reports(first: str, last: str) -> dict[str, str]:
    """The report operations measured over the same 90 days: name -> path."""
    days = f"from={first}&to={last}"
    return {
        "sales funnel, page": f"/staff/reports/funnel?{days}",
        "sales funnel, CSV": f"/staff/reports/funnel.csv?{days}",
        "sales funnel, API": f"/api/v1/staff/reports/funnel?{days}",
        "funnel by day, CSV": f"/staff/reports/funnel/days.csv?{days}",
        "funnel by day, API": f"/api/v1/staff/reports/funnel/days?{days}",
        "sales by day, page": f"/staff/reports/sales?{days}",
        "sales by week, CSV": f"/staff/reports/sales.csv?{days}&by=week",
        "sales by day, API": f"/api/v1/staff/reports/sales?{days}",
        "payment methods, API": f"/api/v1/staff/reports/payment-methods?{days}",
        "products sold, page": f"/staff/reports/products?{days}",
        "products sold, CSV": f"/staff/reports/products.csv?{days}",
        "products sold, API": f"/api/v1/staff/reports/products?{days}",
        "product funnel, page": f"/staff/reports/product-funnel?{days}",
        "category funnel, CSV": f"/staff/reports/product-funnel.csv?{days}&of=category",
        "product funnel, API": f"/api/v1/staff/reports/product-funnel?{days}",
    }


def percentile(timings: list[float], share: float) -> float:
    """The nearest-rank percentile of ``timings``."""
    ordered = sorted(timings)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def measure(get: Callable[[], Any], runs: int) -> tuple[float, float, int]:
    """Median and 95th percentile of ``runs`` answers after a warm-up, in ms; the status."""
    status = get().status_code
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        status = get().status_code
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), percentile(timings, 0.95), status


def build(url: str, scratch: Path) -> Flask:
    from flask_migrate import upgrade

    app = create_app(
        {
            "FUNNEL_ENV": "test",
            "TESTING": True,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": url,
            "MEDIA_ROOT": str(scratch / "media"),
        }
    )
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
    return app


def analyze(app: Flask) -> None:
    """Give PostgreSQL's planner the statistics its autovacuum would have gathered within a
    minute of the load (a server with autovacuum off would plan the reports blind)."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                connection.execute(sa.text("ANALYZE"))
                connection.commit()
        db.session.remove()


def seed(app: Flask, options: argparse.Namespace) -> float:
    """Load the demo shop and its past; 0 seconds when a kept shop has them already."""
    started = time.perf_counter()
    with app.app_context():
        if db.session.scalar(sa.text("SELECT count(*) FROM funnel_events")):
            # a kept shop: its funnel summary brought up to date, as the scheduler would
            summaries.summarise(settings_queries.current_settings().time_zone)
            db.session.remove()
            return 0.0
        load_demo_catalogue(options.products, progress=False)
        create_demo_accounts()
        load_demo_history(
            events=options.events,
            orders=options.orders,
            days=365,
            currency=app.config["CURRENCY"],
            progress=False,
        )
        db.session.remove()
    return time.perf_counter() - started


def run(
    app: Flask, runs: int, only: list[str] | None = None
) -> list[tuple[str, str, float, float, int]]:
    client: FlaskClient = signed_in_admin(app)
    with app.app_context():
        email, password, _role = DEMO_ACCOUNTS[0]
        token = create_api_token(email, password, name="bench").secret
        db.session.remove()
    headers = {"Authorization": f"Bearer {token}"}
    today = clock.utcnow().date()
    first = (today - timedelta(days=DAYS - 1)).isoformat()
    results = []
    for name, path in reports(first, today.isoformat()).items():
        if only and not any(text in name for text in only):
            continue
        api = path.startswith("/api/")

        def get(path: str = path, api: bool = api) -> Any:
            return client.get(path, headers=headers if api else None)

        results.append((name, path, *measure(get, runs)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--postgresql", help="a PostgreSQL server's URL (a scratch database)")
    parser.add_argument("--no-sqlite", action="store_true", help="measure PostgreSQL only")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the shops; SQLite's here")
    parser.add_argument("--only", action="append", help="only the reports whose name holds it")
    options = parser.parse_args()

    measured: dict[str, tuple[float, list[tuple[str, str, float, float, int]]]] = {}
    with tempfile.TemporaryDirectory(prefix="funnel-bench-reports-") as folder:
        scratch = Path(folder)
        if options.keep:
            options.keep.mkdir(parents=True, exist_ok=True)
        kept = options.keep or scratch
        if not options.no_sqlite:
            name = f"funnel-{options.events}-{options.orders}-{options.products}.db"
            app = build(f"sqlite:///{kept / name}", scratch)
            seeded = seed(app, options)
            measured["SQLite"] = (seeded, run(app, options.runs, options.only))
        if options.postgresql:
            measured["PostgreSQL"] = _on_postgresql(options, scratch)
    write_results(options, measured)
    print(Path(__file__).with_name("results.md").read_text())


def _on_postgresql(
    options: argparse.Namespace, scratch: Path
) -> tuple[float, list[tuple[str, str, float, float, int]]]:
    sizes = f"{options.events}_{options.orders}_{options.products}"
    name = f"funnel_bench_{sizes}" if options.keep else f"funnel_bench_{uuid.uuid4().hex[:8]}"
    server_url = sa.make_url(options.postgresql).set(drivername="postgresql+psycopg")
    server = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        exists = connection.scalar(
            sa.text("SELECT count(*) FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = server_url.set(database=name)
        app = build(url.render_as_string(hide_password=False), scratch)
        seeded = seed(app, options)
        analyze(app)
        results = run(app, options.runs, options.only)
        with app.app_context():
            db.engine.dispose()
        return seeded, results
    finally:
        if not options.keep:
            with server.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        server.dispose()


def write_results(
    options: argparse.Namespace,
    measured: dict[str, tuple[float, list[tuple[str, str, float, float, int]]]],
) -> None:
    load = os.getloadavg()[0]
    lines = [
        "# Reports on a big shop",
        "",
        f"`python -m bench.reports --events {options.events} --orders {options.orders} "
        f"--products {options.products} --runs {options.runs}`: a scratch shop with a year of",
        "demo past, the demo admin signed in, each report over the last 90 days answered",
        f"{options.runs} times in process after one warm-up. Target: every report under",
        f"{TARGET_MILLISECONDS} ms at the 95th percentile. {os.cpu_count()} cores, load average",
        f"{load:.2f} at the end.",
    ]
    for database, (seeded, results) in measured.items():
        lines += [
            "",
            f"## {database} (seeded in {seeded:.0f} s)" if seeded else f"## {database} (kept)",
            "",
            "| report | median ms | p95 ms | status | under target |",
            "| --- | ---: | ---: | ---: | --- |",
            *[
                f"| {name} | {median:.0f} | {p95:.0f} | {status} | "
                f"{'yes' if status == 200 and p95 < TARGET_MILLISECONDS else 'no'} |"
                for name, _path, median, p95, status in results
            ],
        ]
    write_section(lines)


if __name__ == "__main__":
    main()
