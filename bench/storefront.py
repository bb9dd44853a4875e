"""Storefront pages against bare Flask doing the same minimum work, as the catalogue grows.

    python -m bench.storefront [--sizes 1000 10000 100000] [--seconds 10] [--connections 32]
                               [--postgresql URL] [--databases sqlite postgresql]

Per database (SQLite; PostgreSQL with ``--postgresql``, in a scratch database made and dropped
here) and per catalogue size, builds a scratch shop with the demo catalogue, serves it with
gunicorn (2 sync workers) beside the bare Flask app of ``bench.hello`` (same settings, same
database), and loads with wrk each page: home, category, category filtered and sorted, search,
product, the API's product list and product. Each page is measured anonymously (a tool: not
counted in the funnel), as a browser is (browser User-Agent and visitor cookie: counted) and,
for the storefront's own pages, as the demo customer signed in through the sign-in form (a
browser with its session cookie: no page is kept for it), alternated with its matching bare
route in the same round (listings against ``/list``, one product against ``/one-query``).
Product views are written in batches, the shop's default. Per page:
req/s, p50/p95/p99, errors, SQL statements per request (counted in process on the same
database), the ratio to the bare route; per size, the workers' RSS after the run; per page, the
p50 at the largest size over the p50 at the smallest (issue 14's targets: ratio at least 0.5,
p99 under 50 ms, scaling within 1.5). Writes one section of ``bench/results.md`` per database and
a chart ``bench/storefront-<database>.png`` of p50 against catalogue size.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

import sqlalchemy as sa
from tests.support.live_server import LiveServer

from bench.api import Operation, count_statements
from bench.databases import analyze, scratch_database
from bench.funnel_cost import BROWSER, counted_headers
from bench.pages import SERVED_AS, sample_paths, serve_bare_flask
from bench.storefront_report import Load, Page, Row, write_report
from funnel.demo import DEMO_ACCOUNTS

API = "/api/v1"
# wrk's summary leaves out p95: this script prints the three percentiles (microseconds).
PERCENTILES_SCRIPT = """done = function(summary, latency, requests)
  io.write(string.format("percentiles %d %d %d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""
VISITORS = ("anonymous", "counted", "signed in")
# The demo's customer, signed in through the form as a shopper is.
CUSTOMER = next((email, password) for email, password, role in DEMO_ACCOUNTS if role == "CUSTOMER")


def run_wrk(
    url: str, seconds: int, connections: int, script: Path, headers: Mapping[str, str]
) -> Load:
    """``url`` under wrk (2 threads), with the percentiles script."""
    header_arguments = [f"-H{name}: {value}" for name, value in headers.items()]
    # A 30 s timeout (wrk's default is 2 s): a slow page's latency is measured, not dropped.
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    command += ["-s", str(script)]
    output = subprocess.run(
        [*command, *header_arguments, url], capture_output=True, text=True, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50, p95, p99 = (
        int(value) / 1000
        for value in re.search(r"percentiles (\d+) (\d+) (\d+)", output).groups()  # type: ignore[union-attr]
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += sum(int(number) for number in socket.groups()) if socket else 0
    return Load(rate, p50, p95, p99, errors)


def pages_of(base_url: str) -> list[Page]:
    """The pages, with a real category, filter, search word and product of this shop."""
    import urllib.request

    paths = sample_paths(base_url)
    category = paths["category"]
    listing = urllib.request.urlopen(base_url + category).read().decode()  # noqa: S310
    facet = re.search(
        r'name="([^"]+)" value="([^"]+)"[^>]*>\s*[^<]+<span class="facet-count">', listing
    )
    chosen = f"{facet.group(1)}={facet.group(2)}&" if facet else "min_price=1&"
    slug = paths["product"].removeprefix("/p/")
    return [
        Page("home", "/", "/list"),
        Page("category", category, "/list"),
        Page("category, filtered and sorted", f"{category}?{chosen}sort=price-asc", "/list"),
        Page("search", paths["search"], "/list"),
        Page("product", paths["product"], "/one-query"),
        Page("API product list", f"{API}/products", "/list"),
        Page("API product", f"{API}/products/{slug}", "/one-query"),
    ]


def signed_in_headers(base_url: str) -> dict[str, str]:
    """A browser's headers with the cookies of the demo customer signed in through the form."""
    import http.cookiejar
    import urllib.parse
    import urllib.request

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", BROWSER)]
    form = opener.open(base_url + "/account/sign-in").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    if token is None:
        raise RuntimeError("the sign-in form has no CSRF token")
    email, password = CUSTOMER
    fields = {"csrf_token": token.group(1), "email": email, "password": password}
    page = opener.open(base_url + "/account/sign-in", urllib.parse.urlencode(fields).encode())
    if "Sign out" not in page.read().decode():
        raise RuntimeError(f"the demo customer {email} could not sign in")
    cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)
    return {"User-Agent": BROWSER, "Cookie": cookies}


def visitors_of(page: Page) -> tuple[str, ...]:
    """Who reads ``page``: an API call carries no browser session, so no one signed in."""
    return VISITORS[:2] if page.path.startswith(API) else VISITORS


def worker_rss_mb(master: int) -> list[float]:
    """VmRSS (MB) of each process whose parent is ``master`` (gunicorn's workers)."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue  # a process that ended while being read
        parent = re.search(r"^PPid:\s+(\d+)", text, re.M)
        rss = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
        if parent and rss and int(parent.group(1)) == master:
            sizes.append(int(rss.group(1)) / 1024)
    return sorted(sizes)


def database_version(url: str) -> str:
    if url.startswith("sqlite"):
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    import psycopg

    plain = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as connection:
        major, minor = divmod(connection.info.server_version, 10000)
        return f"PostgreSQL {major}.{minor}"


def mean_load(first: Load, second: Load) -> Load:
    return Load(
        (first.requests_per_second + second.requests_per_second) / 2,
        (first.p50_ms + second.p50_ms) / 2,
        (first.p95_ms + second.p95_ms) / 2,
        (first.p99_ms + second.p99_ms) / 2,
        first.errors + second.errors,
    )


def measure_round(
    page: Page,
    shop_url: str,
    bare_url: str,
    seconds: int,
    connections: int,
    script: Path,
    headers_of: Mapping[str, Mapping[str, str]],
) -> list[tuple[Page, str, Load, Load]]:
    """The page as each visitor, alternated with its bare route (bare, anonymous, bare,
    counted, bare, signed in, bare): each is compared with the mean of the bare runs just
    before and after it, so that a change of the machine's load during the round touches both
    sides alike."""
    import urllib.request

    for visitor in visitors_of(page):  # warm each worker's caches, as wrk then meets them
        for _worker in range(2):
            url, headers = shop_url + page.path, dict(headers_of[visitor])
            request = urllib.request.Request(url, headers=headers)  # noqa: S310 (the scratch shop)
            urllib.request.urlopen(request, timeout=60).close()  # noqa: S310
    bare_target = bare_url.rstrip("/") + page.bare_path
    bare_loads = [run_wrk(bare_target, seconds, connections, script, {})]
    measured = []
    for visitor in visitors_of(page):
        url = shop_url + page.path
        load = run_wrk(url, seconds, connections, script, headers_of[visitor])
        bare_loads.append(run_wrk(bare_target, seconds, connections, script, {}))
        measured.append((page, visitor, load, mean_load(bare_loads[-2], bare_loads[-1])))
    return measured


def measure_size(
    database: str,
    admin_url: str | None,
    size: int,
    seconds: int,
    connections: int,
    kept_seconds: int,
) -> tuple[list[Row], dict[str, list[float]], str]:
    """Every page at one catalogue size: its rows, the workers' RSS, the database version."""
    with tempfile.TemporaryDirectory(prefix="funnel-bench-storefront-") as folder:
        scratch = Path(folder)
        script = scratch / "percentiles.lua"
        script.write_text(PERCENTILES_SCRIPT)
        with scratch_database(database, admin_url, size, scratch) as url:
            started = time.monotonic()
            shop = LiveServer(
                scratch,
                database_url=url,
                demo_products=size,
                workers=2,
                settings={
                    **SERVED_AS,
                    "FUNNEL_ANALYTICS_BATCH_MILLISECONDS": "1000",
                    "FUNNEL_PAGE_CACHE_SECONDS": str(kept_seconds),
                },
            )
            shop.start()
            if database == "postgresql":
                analyze(url)
            print(f"{database}: {size:,} products loaded in {time.monotonic() - started:.0f} s")
            bare_environment = {**os.environ, "BENCH_DATABASE_URL": url}
            bare, bare_url = serve_bare_flask(bare_environment)
            loads: list[tuple[Page, str, Load, Load]] = []
            try:
                headers_of = {
                    "anonymous": {},
                    "counted": counted_headers(),
                    "signed in": signed_in_headers(shop.base_url),
                }
                pages = pages_of(shop.base_url)
                for page in pages:
                    round_loads = measure_round(
                        page, shop.base_url, bare_url, seconds, connections, script, headers_of
                    )
                    loads += round_loads
                    for _page, visitor, load, bare_load in round_loads:
                        print(
                            f"{database} {size:,} {page.name} ({visitor}): "
                            f"{load.requests_per_second:,.0f} req/s, "
                            f"bare {bare_load.requests_per_second:,.0f}",
                            flush=True,
                        )
                assert shop.process is not None
                rss = {"Funnel": worker_rss_mb(shop.process.pid), "bare": worker_rss_mb(bare.pid)}
            finally:
                bare.terminate()
                bare.wait()
                shop.stop()
            operations = [
                Operation(f"{page.name} {visitor}", page.path, headers_of[visitor])
                for page, visitor, _load, _bare in loads
            ]
            statements = count_statements(shop.environment, operations)
            version = database_version(url)
    rows = [
        Row(size, page, visitor, load, bare_load, count)
        for (page, visitor, load, bare_load), count in zip(loads, statements, strict=True)
    ]
    return rows, rss, version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--postgresql", metavar="URL", help="a server to make a scratch database on"
    )
    parser.add_argument("--databases", nargs="+", choices=["sqlite", "postgresql"])
    parser.add_argument(
        "--kept-seconds",
        type=int,
        default=2,
        help="FUNNEL_PAGE_CACHE_SECONDS (0: no page kept, in a section of its own)",
    )
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: make bench installs it")
    databases = options.databases or ["sqlite", *(["postgresql"] if options.postgresql else [])]
    if "postgresql" in databases and not options.postgresql:
        sys.exit("--databases postgresql needs --postgresql URL")
    sizes = sorted(options.sizes)
    for database in databases:
        started, load_average = time.monotonic(), os.getloadavg()[0]
        rows: list[Row] = []
        memory: dict[int, dict[str, list[float]]] = {}
        version = ""
        for size in sizes:
            size_rows, memory[size], version = measure_size(
                database,
                options.postgresql,
                size,
                options.seconds,
                options.connections,
                options.kept_seconds,
            )
            rows += size_rows
        command = (
            f"python -m bench.storefront --sizes {' '.join(map(str, sizes))} "
            f"--seconds {options.seconds} --connections {options.connections}"
            + (" --postgresql URL" if database == "postgresql" else "")
            + (" --kept-seconds 0" if options.kept_seconds == 0 else "")
        )
        versions = (
            f"Python {platform.python_version()}, Flask {metadata.version('flask')}, "
            f"SQLAlchemy {sa.__version__}, gunicorn {metadata.version('gunicorn')}"
        )
        write_report(
            database,
            rows,
            memory,
            command=command,
            versions=versions,
            database_version=version,
            load_average=load_average,
            minutes=(time.monotonic() - started) / 60,
            kept_seconds=options.kept_seconds,
        )


if __name__ == "__main__":
    main()
