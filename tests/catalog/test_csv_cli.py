"""``flask --app funnel catalog export FILE`` and ``catalog import FILE [--dry-run]`` (US-17)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from funnel.catalog.models import Variant
from funnel.extensions import db
from funnel.inventory.models import StockMovement
from tests.factories.catalog import ProductFactory

pytestmark = pytest.mark.story("US-17")


def state() -> tuple[list[tuple], int]:
    db.session.expire_all()
    variants = db.session.execute(
        sa.select(Variant.sku, Variant.price_amount, Variant.stock_quantity).order_by(Variant.id)
    ).all()
    movements = db.session.scalar(sa.select(sa.func.count()).select_from(StockMovement))
    return [tuple(row) for row in variants], movements


def test_export_then_import_of_an_edited_file(app: Flask, tmp_path: Path) -> None:
    ProductFactory(title="Mug", variants=[{"sku": "MUG-1", "price": 1000, "stock_quantity": 2}])
    runner = app.test_cli_runner()
    exported = tmp_path / "catalogue.csv"

    result = runner.invoke(args=["catalog", "export", str(exported)])

    assert result.exit_code == 0, result.output
    text = exported.read_text(encoding="utf-8")
    [header, row] = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert header[0] == "handle"
    assert row[:3] == ["mug", "Mug", "A fine thing, well made."]
    assert row[7:] == ["MUG-1", "", "", "10.00", "2"]
    assert f"Exported the catalogue to {exported}." in result.output
    exported.write_text(text.replace(",10.00,2", ",10.00,6"), encoding="utf-8")

    dry = runner.invoke(args=["catalog", "import", str(exported), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Stock levels changed: 1 (would be counted in the ledger)." in dry.output
    assert state() == ([("MUG-1", 1000, 2)], 0)

    done = runner.invoke(args=["catalog", "import", str(exported)])
    assert done.exit_code == 0, done.output
    assert "Products: 0 created, 0 updated." in done.output
    assert state() == ([("MUG-1", 1000, 6)], 2)


def test_an_invalid_file_lists_its_errors_and_exits_1(app: Flask, tmp_path: Path) -> None:
    ProductFactory(title="Mug", variants=[{"sku": "MUG-1", "price": 1000, "stock_quantity": 2}])
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "handle,title,description,seo_title,seo_description,category,status,sku,variant_title,"
        "options,price,stock\r\nmug,Mug,,,,Kitchen,gone,MUG-1,,,1.999,2\r\n",
        encoding="utf-8",
    )

    result = app.test_cli_runner().invoke(args=["catalog", "import", str(bad)])

    assert result.exit_code == 1
    assert result.output.splitlines()[-3:] == [
        "Row 2, column status: Choose draft, active or archived.",
        "Row 2, column price: '1.999' has more decimals than USD allows",
        "Error: 2 errors in the file. Nothing was imported.",
    ]
    assert state() == ([("MUG-1", 1000, 2)], 0)


@pytest.mark.backends("sqlite")
def test_an_empty_file_exits_1(app: Flask, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")

    result = app.test_cli_runner().invoke(args=["catalog", "import", str(empty)])

    assert result.exit_code == 1
    assert "Row 1: The file is empty: it needs a header row." in result.output
