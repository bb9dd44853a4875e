"""Add to cart and the whole API checkout under load, on SQLite and PostgreSQL.

    python -m bench.checkout [--products 1000] [--seconds 10] [--postgresql URL]

Builds a scratch shop with the demo catalogue (SQLite; and, given ``--postgresql`` with a
server's URL, a scratch database made and dropped by the run), served by gunicorn with 2 sync
workers, rate limits off (``FUNNEL_RATELIMIT_ENABLED=false``), the test gateway answering at
once. Then:

- **add to cart**, 16 shoppers, each with a cart prepared first: through the form (each shopper
  its own session cookie and CSRF token) and through the API (each cart its ``Cart-Secret``),
  under wrk with a Lua script that turns through the shoppers and three plentiful variants;
- **checkout**: 32 buyers, each a thread of ``bench.buyers``, making whole API guest checkouts
  (cart, line, checkout, payment) for the same time; their first purchase races for a few
  units of scarce variants, and the run checks that no unit was sold twice.

SQL statements are counted once in-process on the same database (a warm second run of each).
Writes the "Add to cart and checkout" section of ``bench/results.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from tests.support.live_server import LiveServer

from bench.api import call, shop_environment
from bench.buyers import check_stock, percentile, run_buyers
from bench.checkout_statements import count_add_statements, count_checkout_statements
from bench.pages import RESULTS, SERVED_AS, write_section

TITLE = "# Add to cart and checkout"
SHOPPERS = 16
BUYERS = 32
PLENTIFUL_UNITS = 1_000_000
SCARCE_VARIANTS = 3
SCARCE_UNITS = 5  # each: 15 units for the 32 buyers' first purchases
LUA = """
local shoppers = {%(shoppers)s}
local counter = 0
request = function()
  counter = counter + 1
  local shopper = shoppers[(counter %% #shoppers) + 1]
  return wrk.format("POST", shopper[1], shopper[2], shopper[3])
end
"""


@dataclass
class Row:
    """One line of the results table."""

    scenario: str
    rate: float
    p50_ms: float
    p99_ms: float
    errors: str
    statements: int | str


def _milliseconds(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_wrk_requests(
    base_url: str, requests: list[tuple[str, dict[str, str], str]], seconds: int
) -> tuple[float, float, float, int]:
    """wrk cycling through ``requests`` (path, headers, body), one connection per shopper."""
    entries = []
    for path, headers, body in requests:
        header_table = ", ".join(
            f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()
        )
        entries.append(f"{{{_lua_string(path)}, {{{header_table}}}, {_lua_string(body)}}}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % {"shoppers": ",\n".join(entries)})
    try:
        output = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{SHOPPERS}",
                f"-d{seconds}s",
                "--latency",
                "-s",
                script.name,
                base_url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _milliseconds(re.search(r"^\s*50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _milliseconds(re.search(r"^\s*99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return rate, p50, p99, int(errors.group(1)) if errors else 0


def prepare_stock(environment: dict[str, str]) -> tuple[list[tuple[int, str]], list[int]]:
    """Plentiful variants (id, product slug) for the load, and the scarce ones, stock set."""
    from funnel import create_app
    from funnel.catalog.models import Product, ProductStatus, Variant
    from funnel.extensions import db
    from funnel.inventory.services.counts import set_stock_levels

    with shop_environment(environment):
        app = create_app()
    with app.app_context():
        rows = db.session.execute(
            sa.select(Variant.id, Product.slug)
            .join(Product, Product.id == Variant.product_id)
            .where(Product.status == ProductStatus.ACTIVE)
            .order_by(Variant.id)
            .limit(SHOPPERS * 3 + SCARCE_VARIANTS)
        ).all()
        plentiful = [(row[0], row[1]) for row in rows[: SHOPPERS * 3]]
        scarce = [row[0] for row in rows[SHOPPERS * 3 :]]
        levels = {variant_id: PLENTIFUL_UNITS for variant_id, _ in plentiful}
        set_stock_levels(levels | dict.fromkeys(scarce, SCARCE_UNITS))
        db.session.remove()
        db.engine.dispose()
    return plentiful, scarce


def form_shoppers(base_url: str, plentiful: list[tuple[int, str]]) -> list[tuple[str, dict, str]]:
    """Each shopper's session (one add made, so its cart exists) and its three form posts."""
    requests = []
    for shopper in range(SHOPPERS):
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        mine = plentiful[shopper * 3 : shopper * 3 + 3]
        page = opener.open(f"{base_url}/p/{mine[0][1]}").read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        first = f"csrf_token={token}&variant_id={mine[0][0]}&quantity=1".encode()
        opener.open(f"{base_url}/cart/lines", data=first).read()
        cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)
        headers = {"Cookie": cookies, "Content-Type": "application/x-www-form-urlencoded"}
        for variant_id, _ in mine:
            body = f"csrf_token={token}&variant_id={variant_id}&quantity=1"
            requests.append(("/cart/lines", headers, body))
    return requests


def api_shoppers(base_url: str, plentiful: list[tuple[int, str]]) -> list[tuple[str, dict, str]]:
    """Each shopper's guest cart (one line added) and its three API adds."""
    requests = []
    for shopper in range(SHOPPERS):
        cart = call(base_url, "POST", "/carts")
        headers = {"Cart-Secret": cart["secret"], "Content-Type": "application/json"}
        mine = plentiful[shopper * 3 : shopper * 3 + 3]
        path = f"/carts/{cart['id']}/lines"
        call(base_url, "POST", path, {"variant_id": mine[0][0], "quantity": 1}, headers)
        for variant_id, _ in mine:
            body = f'{{"variant_id": {variant_id}, "quantity": 1}}'
            requests.append((f"/api/v1{path}", headers, body))
    return requests


def measure_shop(database: str, url: str | None, scratch: Path, options: Any) -> list[Row]:
    """Every scenario on one database: the rows of the table."""
    scratch.mkdir(parents=True)
    settings = {
        **SERVED_AS,
        "FUNNEL_RATELIMIT_ENABLED": "false",
        "FUNNEL_TEST_GATEWAY_LATENCY_MS": "0",
    }
    shop = LiveServer(
        scratch, database_url=url, workers=2, demo_products=options.products, settings=settings
    )
    shop.start()
    try:
        plentiful, scarce = prepare_stock(shop.environment)
        form = run_wrk_requests(
            shop.base_url, form_shoppers(shop.base_url, plentiful), options.seconds
        )
        api = run_wrk_requests(
            shop.base_url, api_shoppers(shop.base_url, plentiful), options.seconds
        )
        ids = [variant_id for variant_id, _ in plentiful]
        outcomes, elapsed = run_buyers(shop.base_url, BUYERS, options.seconds, ids, scarce)
        if "Traceback" in shop.logs():
            print(shop.logs()[-3000:], file=sys.stderr)
    finally:
        shop.stop()
    with shop_environment(shop.environment):
        from funnel import create_app

        app = create_app()
    stock = check_stock(app, scarce, SCARCE_UNITS)
    adds = count_add_statements(app, ids[0], plentiful[0][1])
    per_checkout = count_checkout_statements(app, ids[1])
    with app.app_context():
        from funnel.extensions import db

        db.engine.dispose()
    errors = ", ".join(f"{count} x {kind}" for kind, count in outcomes.errors.items()) or "0"
    print(
        f"{database}: {outcomes.paid} paid in {elapsed:.1f}s, {outcomes.refused_for_stock} refused "
        f"for stock, errors {errors}; scarce stock {stock}, oversold {stock.oversold}"
    )
    times = [seconds * 1000 for seconds in outcomes.seconds_per_order]
    checkout_errors = sum(outcomes.errors.values())
    oversold = f"{stock.oversold} oversold" + ("" if stock.is_consistent else ", stock mismatch")
    return [
        Row(f"{database}: add to cart, form", *form[:3], str(form[3]), adds["form"]),
        Row(f"{database}: add to cart, API", *api[:3], str(api[3]), adds["api"]),
        Row(
            f"{database}: whole API checkout, {BUYERS} buyers (orders/s; {oversold}, "
            f"{stock.sold} of {stock.stock_before} scarce units sold, "
            f"{outcomes.refused_for_stock} refused for stock)",
            outcomes.paid / elapsed,
            percentile(times, 0.5),
            percentile(times, 0.99),
            str(checkout_errors),
            per_checkout,
        ),
    ]


@contextmanager
def scratch_postgresql(server_url: str) -> Iterator[str]:
    """A new database on the server, dropped afterwards: its URL."""
    url = sa.make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"funnel_bench_checkout_{os.getpid()}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def versions(postgresql: str | None) -> str:
    """Python, SQLite, PostgreSQL (when measured) and the commit measured."""
    parts = [f"Python {platform.python_version()}", f"SQLite {sqlite3.sqlite_version}"]
    if postgresql:
        engine = sa.create_engine(sa.make_url(postgresql).set(drivername="postgresql+psycopg"))
        with engine.connect() as connection:
            parts.append(
                f"PostgreSQL {connection.execute(sa.text('SHOW server_version')).scalar()}"
            )
        engine.dispose()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return ", ".join(parts + ([f"commit {commit}"] if commit else []))


def write_results(rows: list[Row], args: str, load: float, minutes: float, about: str) -> None:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    shared = " (other work shared the machine)" if load > 1 else ""
    head = "| scenario | per second | p50 ms | p99 ms | errors | SQL statements |"
    table = [head, "| --- | ---: | ---: | ---: | ---: | ---: |"]
    table += [
        f"| {r.scenario} | {r.rate:,.1f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors} "
        f"| {r.statements} |"
        for r in rows
    ]
    write_section(
        [
            TITLE,
            "",
            f"`python -m bench.checkout {args}`, {when};",
            f"{about}.",
            "gunicorn with 2 sync workers, rate limits off, the test gateway at zero latency.",
            f"Add to cart: wrk, {SHOPPERS} connections turning through {SHOPPERS} shoppers (form:",
            "each its session cookie and CSRF token, answered 303; API: each its cart's",
            f"`Cart-Secret`, answered 201), adds/s. Checkout: a Python driver of {BUYERS} threads",
            "(on the same 2 cores as the shop, one keep-alive connection each) making whole API",
            "guest checkouts (cart, line, checkout, payment); completed orders/s and the time of",
            "one whole order.",
            f"The first purchase of each buyer also wants one unit of {SCARCE_VARIANTS} scarce",
            f"variants ({SCARCE_UNITS} units each): oversold counts units sold beyond that stock.",
            "SQL statements: per add (the second add of a warm worker), and per whole checkout",
            "(its four calls), counted in-process with BEGIN and savepoints (the counts pinned by",
            "`tests/checkout/test_statement_counts.py` leave those out).",
            f"Load average when the run began: {load:.2f}{shared}; it took {minutes:.1f} minutes.",
            "",
            *table,
            *previous_run(),
        ]
    )


def previous_run() -> list[str]:
    """The last run's table (from ``bench/results.md``), kept below the new one to compare."""
    if not RESULTS.exists():
        return []
    section = RESULTS.read_text().partition(TITLE + "\n")[2].split("\n# ")[0]
    when = re.search(r"`python -m bench\.checkout [^`]*`, ([^;]+);", section)
    load = re.search(r"Load average when the run began: ([\d.]+)", section)
    table = section.partition("\n\n## Previous run")[0]
    rows = [line for line in table.splitlines() if line.startswith("|")]
    if not rows or when is None:
        return []
    about = f"load average {load.group(1)}" if load else "load average unknown"
    return ["", f"## Previous run ({when.group(1)}, {about})", "", *rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=1_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--postgresql", help="a PostgreSQL server's URL (a scratch database)")
    parser.add_argument("--no-sqlite", action="store_true", help="measure PostgreSQL only")
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: make bench installs it")
    started, load = time.monotonic(), os.getloadavg()[0]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="funnel-bench-checkout-") as scratch:
        if not options.no_sqlite:
            rows += measure_shop("SQLite", None, Path(scratch) / "sqlite", options)
        if options.postgresql:
            with scratch_postgresql(options.postgresql) as url:
                rows += measure_shop("PostgreSQL", url, Path(scratch) / "postgresql", options)
    args = f"--products {options.products} --seconds {options.seconds}"
    if options.postgresql:
        args += " --postgresql URL"
    about = f"{options.products} demo products; {versions(options.postgresql)}"
    write_results(rows, args, load, (time.monotonic() - started) / 60, about)
    print("\n".join(f"{row}" for row in rows))


if __name__ == "__main__":
    main()
