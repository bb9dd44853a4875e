"""Catalogue CSV import and export (US-17): how long 10,000 rows take on SQLite.

    python -m bench.catalog_csv [--rows 10000] [--variants 4]

Builds a scratch SQLite shop (migrated, empty), writes a file of ``--rows`` variants
(``--variants`` per product, in nested categories, every one with stock), then times, in
process and as the command line does them: the first import (everything created, each stock
level counted into the ledger), the export, importing the export unchanged (nothing written),
and an edited file (every 10th price, every 5th stock level). Writes its section of
``bench/results.md``. The target: 10,000 rows in under 30 s.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.pages import write_section
from funnel import create_app
from funnel.catalog.services.csv_export import export_catalogue_csv
from funnel.catalog.services.csv_format import COLUMNS
from funnel.extensions import db
from funnel.inventory import services as inventory
from funnel.inventory.models import StockMovement

TARGET_SECONDS = 30


def catalogue_file(rows: int, variants_per_product: int) -> bytes:
    """A valid catalogue CSV of ``rows`` variants."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    sizes = ["XS", "S", "M", "L", "XL", "XXL"]
    for number in range(rows):
        product = number // variants_per_product
        variant = number % variants_per_product
        writer.writerow(
            [
                f"bench-product-{product}",
                f"Bench product {product}",
                f"A product to measure the import with, number {product}.",
                "",
                "",
                f"Bench > Group {product % 20} > Shelf {product % 7}",
                "active",
                f"BENCH-{product:06d}-{variant}",
                "",
                f"size={sizes[variant % len(sizes)]};colour=Blue",
                f"{10 + product % 90}.{variant * 5:02d}",
                str((product + variant) % 40),
            ]
        )
    return buffer.getvalue().encode()


def edited(data: bytes) -> tuple[bytes, int, int]:
    """``data`` with every 10th price and every 5th stock level changed; and how many."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    prices = stocks = 0
    for index, row in enumerate(rows[1:]):
        if index % 10 == 0:
            row[COLUMNS.index("price")] = "99.99"
            prices += 1
        if index % 5 == 0:
            row[COLUMNS.index("stock")] = str(int(row[COLUMNS.index("stock")]) + 7)
            stocks += 1
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(), prices, stocks


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def movements() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(StockMovement)) or 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--variants", type=int, default=4)
    options = parser.parse_args()

    from flask_migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="funnel-bench-csv-") as scratch:
        app = create_app(
            {
                "FUNNEL_ENV": "test",
                "TESTING": True,
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(scratch) / 'funnel.db'}",
                "MEDIA_ROOT": str(Path(scratch) / "media"),
            }
        )
        data = catalogue_file(options.rows, options.variants)
        results: list[tuple[str, float, str]] = []
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory, revision="heads")
            seconds, summary = timed(lambda: inventory.import_catalogue(data))
            results.append(
                (
                    "first import (all new)",
                    seconds,
                    f"{summary.products_created:,} products, {summary.variants_created:,} "
                    f"variants, {len(summary.categories_created)} categories created; "
                    f"{len(summary.stock_changes):,} stock levels counted, "
                    f"{movements():,} ledger rows",
                )
            )
            seconds, chunks = timed(lambda: list(export_catalogue_csv()))
            exported = "".join(chunks).encode()
            results.append(("export", seconds, f"{len(exported) / 1e6:.1f} MB"))
            before = movements()
            seconds, summary = timed(lambda: inventory.import_catalogue(exported))
            results.append(
                (
                    "import of the export, unchanged",
                    seconds,
                    f"changes: {summary.has_changes}; new ledger rows: {movements() - before}",
                )
            )
            changed, prices, stocks = edited(exported)
            before = movements()
            seconds, summary = timed(lambda: inventory.import_catalogue(changed))
            results.append(
                (
                    "import with edits",
                    seconds,
                    f"{summary.variants_updated:,} variants updated ({prices:,} prices), "
                    f"{len(summary.stock_changes):,} stock levels ({stocks:,} edited), "
                    f"{movements() - before:,} new ledger rows",
                )
            )
    write_results(options.rows, options.variants, results)
    print(Path(__file__).with_name("results.md").read_text())


def write_results(rows: int, variants: int, results: list[tuple[str, float, str]]) -> None:
    lines = [
        "# Catalogue CSV import and export",
        "",
        f"`python -m bench.catalog_csv --rows {rows} --variants {variants}`: a scratch SQLite shop",
        f"(one process, {os.cpu_count()} cores), a file of {rows:,} variants ({variants} per",
        "product, in nested categories, each with stock), timed in process as the command",
        f"line runs it. Target: {rows:,} rows imported in under {TARGET_SECONDS} s.",
        "",
        "| step | seconds | what it did |",
        "| --- | ---: | --- |",
        *[f"| {name} | {seconds:.1f} | {what} |" for name, seconds, what in results],
    ]
    write_section(lines)


if __name__ == "__main__":
    main()
