"""The catalogue as CSV (US-17): export, edit, import; every error by row and column, and an
invalid file writes nothing."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from flask import Flask

from funnel.catalog.errors import InvalidCatalogFile, RowError
from funnel.catalog.models import Category, Product, ProductStatus, Variant, VariantOptionValue
from funnel.catalog.services.csv_export import export_catalogue_csv
from funnel.catalog.services.csv_format import COLUMNS
from funnel.core.spreadsheet import escape_cell, unescape_cell
from funnel.extensions import db
from funnel.inventory import services as inventory
from funnel.inventory.models import MovementReason, StockMovement
from tests.factories.catalog import CategoryFactory, ProductFactory

pytestmark = pytest.mark.story("US-17")


def exported() -> str:
    return "".join(export_catalogue_csv())


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def to_csv(rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def snapshot() -> dict[str, object]:
    """Everything an import may write, to prove what changed and what did not."""
    db.session.expire_all()

    def rows(statement: sa.Select) -> list[tuple]:
        return [tuple(row) for row in db.session.execute(statement)]

    return {
        "categories": rows(sa.select(Category.id, Category.name, Category.parent_id)),
        "products": rows(
            sa.select(
                Product.id,
                Product.slug,
                Product.title,
                Product.description,
                Product.status,
                Product.category_id,
                Product.min_price_amount,
                Product.search_document,
                Product.updated_at,
            ).order_by(Product.id)
        ),
        "variants": rows(
            sa.select(
                Variant.id, Variant.sku, Variant.title, Variant.price_amount, Variant.stock_quantity
            ).order_by(Variant.id)
        ),
        "options": rows(
            sa.select(
                VariantOptionValue.variant_id, VariantOptionValue.name, VariantOptionValue.value
            ).order_by(VariantOptionValue.id)
        ),
        "movements": rows(sa.select(StockMovement.id)),
    }


def shop() -> None:
    """Two products in Clothing > Shirts, one with two sized variants."""
    clothing = CategoryFactory(name="Clothing")
    shirts = CategoryFactory(name="Shirts", parent_id=clothing.id)
    ProductFactory(
        title="Oxford Shirt",
        category_id=shirts.id,
        description="Cotton, with a button-down collar.",
        seo_title="Oxford shirt",
        variants=[
            {"sku": "OX-M", "price": 4500, "stock_quantity": 3, "options": {"Size": "M"}},
            {"sku": "OX-L", "price": 4750, "stock_quantity": 0, "options": {"Size": "L"}},
        ],
    )
    ProductFactory(
        title="Linen Scarf",
        category_id=clothing.id,
        description="-20% in winter",
        status=ProductStatus.DRAFT,
        variants=[{"sku": "SCARF-1", "price": 1250, "stock_quantity": 8, "title": "One size"}],
    )


def errors_of(data: bytes) -> list[RowError]:
    with pytest.raises(InvalidCatalogFile) as raised:
        inventory.import_catalogue(data)
    return raised.value.errors


# -- export ----------------------------------------------------------------------------------


def test_the_export_has_one_row_per_variant_with_its_stock(app: Flask) -> None:
    shop()

    text = exported()

    assert text.startswith("\ufeffhandle,title,description,seo_title,seo_description,category,")
    assert [list(row.values()) for row in rows_of(text)] == [
        [
            "oxford-shirt",
            "Oxford Shirt",
            "Cotton, with a button-down collar.",
            "Oxford shirt",
            "",
            "Clothing > Shirts",
            "active",
            "OX-M",
            "",
            "Size=M",
            "45.00",
            "3",
        ],
        [
            "oxford-shirt",
            "Oxford Shirt",
            "Cotton, with a button-down collar.",
            "Oxford shirt",
            "",
            "Clothing > Shirts",
            "active",
            "OX-L",
            "",
            "Size=L",
            "47.50",
            "0",
        ],
        [
            "linen-scarf",
            "Linen Scarf",
            "'-20% in winter",
            "",
            "",
            "Clothing",
            "draft",
            "SCARF-1",
            "One size",
            "",
            "12.50",
            "8",
        ],
    ]


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("'quoted", "''quoted"),
        ("Plain = fine", "Plain = fine"),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_escaped_and_read_back(
    app: Flask, value: str, written: str
) -> None:
    assert escape_cell(value) == written
    assert unescape_cell(written) == value


# -- round trip ------------------------------------------------------------------------------


def test_importing_the_export_unchanged_changes_nothing(app: Flask) -> None:
    shop()
    before = snapshot()

    summary = inventory.import_catalogue(exported().encode())

    assert summary.has_changes is False
    assert summary.rows == 3
    assert snapshot() == before


def test_an_edited_price_title_and_stock_change_exactly_those(app: Flask) -> None:
    # given the export, with a new price for OX-L, a new title for the scarf, 11 OX-M counted
    shop()
    rows = rows_of(exported())
    rows[1]["price"] = "39.90"
    rows[2]["title"] = "Linen Scarf (wide)"
    rows[0]["stock"] = "11"
    before = snapshot()

    # when the edited file is imported
    summary = inventory.import_catalogue(to_csv(rows))

    # then exactly those changed, with one counted movement for the one stock change
    after = snapshot()
    assert (summary.products_updated, summary.variants_updated) == (2, 1)
    assert [(c.sku, c.before, c.after) for c in summary.stock_changes] == [("OX-M", 3, 11)]
    assert after["categories"] == before["categories"]
    assert after["options"] == before["options"]
    assert [row[1:] for row in after["variants"]] == [
        ("OX-M", "", 4500, 11),
        ("OX-L", "", 3990, 0),
        ("SCARF-1", "One size", 1250, 8),
    ]
    assert [row[1:4] for row in after["products"]] == [
        ("oxford-shirt", "Oxford Shirt", "Cotton, with a button-down collar."),
        ("linen-scarf", "Linen Scarf (wide)", "-20% in winter"),
    ]
    assert after["products"][0][6] == 3990  # the cheapest variant now
    ox_m = db.session.scalar(sa.select(Variant.id).where(Variant.sku == "OX-M"))
    counted = db.session.execute(
        sa.select(
            StockMovement.variant_id, StockMovement.quantity, StockMovement.balance_after
        ).where(StockMovement.reason == MovementReason.COUNTED)
    ).all()
    assert [tuple(row) for row in counted] == [(ox_m, 8, 11)]
    # The variant's first movement: its opening balance, then the count.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StockMovement)) == 2


def test_an_import_creates_products_variants_categories_and_counts_their_stock(
    app: Flask,
) -> None:
    shop()
    rows = [
        {
            "handle": "rain-jacket",
            "title": "Rain Jacket",
            "category": "Clothing > Coats > Rain",
            "status": "Active",
            "sku": "rj-s",
            "options": "size=S; colour=Blue",
            "price": "89",
            "stock": "4",
        },
        {
            "handle": "rain-jacket",
            "sku": "RJ-M",
            "options": "size=M;colour=Blue",
            "price": "89.00",
            "stock": "0",
        },
    ]

    summary = inventory.import_catalogue(to_csv(rows))

    assert (summary.products_created, summary.variants_created) == (1, 2)
    assert summary.categories_created == ["Clothing > Coats", "Clothing > Coats > Rain"]
    product = db.session.scalars(sa.select(Product).where(Product.slug == "rain-jacket")).one()
    rain = db.session.scalars(sa.select(Category).where(Category.name == "Rain")).one()
    coats = db.session.get(Category, rain.parent_id)
    assert (product.title, product.status, product.category_id) == (
        "Rain Jacket",
        ProductStatus.ACTIVE,
        rain.id,
    )
    assert coats.name == "Coats"
    assert product.min_price_amount == 8900
    assert "RJ-S" in product.search_document
    variants = db.session.execute(
        sa.select(Variant.sku, Variant.stock_quantity, Variant.position)
        .where(Variant.product_id == product.id)
        .order_by(Variant.id)
    ).all()
    assert [tuple(v) for v in variants] == [("RJ-S", 4, 0), ("RJ-M", 0, 1)]
    reasons = db.session.scalars(sa.select(StockMovement.reason).order_by(StockMovement.id)).all()
    assert reasons == [MovementReason.OPENING_BALANCE, MovementReason.COUNTED]
    assert "Size=S;Colour=Blue" in exported()


# -- errors: every one listed, nothing written -------------------------------------------------


def test_every_bad_cell_is_listed_by_row_and_column_and_nothing_is_written(app: Flask) -> None:
    shop()
    rows = rows_of(exported())
    other = ProductFactory(title="Other", variants=[{"sku": "TAKEN-1"}])
    rows.append({**rows[0], "handle": "new-one", "sku": "TAKEN-1", "stock": "-1"})
    rows[0]["price"] = "12.345"
    rows[1]["options"] = "size"
    rows[2]["status"] = "sold"
    rows.append({**rows[2], "price": "1.00", "status": ""})  # SCARF-1 twice
    before = snapshot()

    errors = errors_of(to_csv(rows))

    assert [(error.row, error.column) for error in errors] == [
        (2, "price"),
        (3, "options"),
        (4, "status"),
        (5, "stock"),
        (6, "sku"),
    ]
    assert [error.message for error in errors] == [
        "'12.345' has more decimals than USD allows",
        "Write each option as name=value ('size' has no =).",
        "Choose draft, active or archived.",
        "Must be a whole number, 0 or more.",
        "SCARF-1 is also on row 4.",
    ]
    assert snapshot() == before
    # the cells are read first; the SKUs are compared with the shop once every cell is good
    rows[0]["price"], rows[1]["options"], rows[2]["status"], rows[3]["stock"] = (
        "45.00",
        "Size=L",
        "draft",
        "1",
    )
    rows.pop()
    assert [(e.row, e.column, e.message) for e in errors_of(to_csv(rows))] == [
        (5, "sku", f"TAKEN-1 is already used by the product {other.slug}.")
    ]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", [(1, "", "The file is empty: it needs a header row.")]),
        (",".join(COLUMNS).encode() + b"\r\n", [(2, "", "The file has a header but no rows.")]),
        (
            ",".join(column for column in COLUMNS if column != "price").encode()
            + b"\r\nx,y,,,,C,draft,SKU-9,,,3\r\n",
            [(1, "price", "This column is missing; the columns are " + ", ".join(COLUMNS) + ".")],
        ),
        (
            ",".join(COLUMNS).encode() + b"\r\ncaf\xe9,Caf\xe9,,,,C,draft,SKU-9,,,1.00,3\r\n",
            [
                (
                    2,
                    "",
                    "The file is not UTF-8 text: save it as “CSV UTF-8” (this line has a byte "
                    "UTF-8 does not allow).",
                )
            ],
        ),
        (
            ",".join(COLUMNS).encode() + b"\r\nBad Handle,T,,,,C,draft,SKU-9,,,1.00,3\r\n",
            [(2, "handle", "Use lower-case letters, digits and single hyphens (my-shirt).")],
        ),
    ],
    ids=["empty", "header-only", "missing-column", "not-utf8", "bad-handle"],
)
def test_a_file_that_cannot_be_read_says_why(
    app: Flask, data: bytes, expected: list[tuple[int, str, str]]
) -> None:
    shop()
    before = snapshot()

    assert [(e.row, e.column, e.message) for e in errors_of(data)] == expected
    assert snapshot() == before


def test_stock_changes_need_inventory_adjust_and_catalogue_changes_catalog_manage(
    app: Flask, customer: object
) -> None:
    from funnel.core.errors import PermissionDenied

    shop()
    before = snapshot()

    with pytest.raises(PermissionDenied):
        inventory.import_catalogue(exported().encode(), actor_user_id=customer.id)  # type: ignore[attr-defined]

    assert snapshot() == before
