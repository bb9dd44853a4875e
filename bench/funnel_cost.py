"""What counting a product view in the sales funnel costs the product page (US-73).

    python -m bench.funnel_cost [--products 1000] [--seconds 10] [--connections 32]
                                [--postgresql URL]

Serves one scratch SQLite shop (or, with ``--postgresql``, a scratch database made on that
server, in a section of its own) with gunicorn (2 sync workers) twice: with product views
written in batches (``FUNNEL_ANALYTICS_BATCH_MILLISECONDS=1000``, the default) and written in
their request (``0``). Under each, wrk loads the same product page as a tool (not counted:
no browser, no visitor cookie) and as a returning browser (counted: a browser's User-Agent, a
visitor cookie and today's visit already recorded, so that only the view is written), one
after the other. The cost is 1 - counted / not counted, in the same server: figures vary with
the machine, the ratio less. Writes its section of ``bench/results.md``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from tests.support.live_server import LiveServer

from bench.databases import analyze, scratch_database
from bench.pages import SERVED_AS, Measure, result_table, run_wrk, sample_paths, write_section

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
VISITOR = "benchmark-visitor-0001"
MODES = {"in batches (1000 ms)": "1000", "each in its request (0)": "0"}


def counted_headers() -> dict[str, str]:
    today = datetime.now(UTC).date().isoformat()
    return {
        "User-Agent": BROWSER,
        "Cookie": f"funnel_visitor={VISITOR}; funnel_visit_day={today}",
    }


def measure_mode(
    scratch: Path,
    batch_milliseconds: str,
    products: int,
    seconds: int,
    connections: int,
    database_url: str | None = None,
) -> tuple[Measure, Measure, str]:
    shop = LiveServer(
        scratch,
        database_url=database_url,
        demo_products=products,
        workers=2,
        settings={**SERVED_AS, "FUNNEL_ANALYTICS_BATCH_MILLISECONDS": batch_milliseconds},
    )
    shop.start()
    if database_url is not None and database_url.startswith("postgresql"):
        analyze(database_url)
    try:
        path = sample_paths(shop.base_url)["product"]
        url = shop.base_url + path
        plain = Measure("not counted", path, *run_wrk(url, seconds, connections))
        counted = Measure("counted", path, *run_wrk(url, seconds, connections, counted_headers()))
    finally:
        shop.stop()
    return plain, counted, path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--postgresql", metavar="URL", help="a server to make a scratch database on"
    )
    options = parser.parse_args()
    database = "postgresql" if options.postgresql else "sqlite"
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: make bench installs it")
    rows: list[str] = []
    for mode, milliseconds in MODES.items():
        with (
            tempfile.TemporaryDirectory(prefix="funnel-bench-") as scratch,
            scratch_database(database, options.postgresql, options.products, Path(scratch)) as url,
        ):
            plain, counted, _path = measure_mode(
                Path(scratch),
                milliseconds,
                options.products,
                options.seconds,
                options.connections,
                url,
            )
        table = result_table("product page", plain, [counted], ratio_title="vs not counted")
        cost = 1 - counted.requests_per_second / plain.requests_per_second
        summary = f"Product views written {mode}: counting costs {cost:.0%}."
        rows += [summary, "", *table, ""]
        print(summary, flush=True)
    write_section(
        [
            "# Counting a product view" + (", PostgreSQL" if options.postgresql else ""),
            "",
            f"`python -m bench.funnel_cost --products {options.products} --seconds "
            f"{options.seconds}{' --postgresql URL' if options.postgresql else ''}`: "
            f"{'PostgreSQL (analysed after the load)' if options.postgresql else 'SQLite'}, "
            "gunicorn with 2 sync workers, wrk with 2 threads and "
            f"{options.connections} connections. The same product page not counted (a tool) and",
            "counted (a returning browser: only the view is written); the target is a cost of at",
            "most 10 %.",
            "",
            *rows,
        ]
    )


if __name__ == "__main__":
    main()
