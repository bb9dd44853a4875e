"""Staff catalogue CSV pages (US-17): who may export and import, the preview, the error table,
and an upload kept on the server between preview and confirm."""

from __future__ import annotations

import csv
import io
import os
import re
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts.models import Role, User
from funnel.accounts.permissions import ROLE_PERMISSIONS, Permission
from funnel.catalog.models import Product, Variant
from funnel.extensions import db
from funnel.inventory.models import StockMovement
from tests.factories.catalog import ProductFactory

pytestmark = pytest.mark.story("US-17")

HEADER = (
    "handle,title,description,seo_title,seo_description,category,status,sku,variant_title,"
    "options,price,stock"
)


def catalogue_file(price: str = "12.50", stock: str = "5", title: str = "Mug") -> bytes:
    return f"{HEADER}\r\nmug,{title},,,,Kitchen,active,MUG-1,,size=M,{price},{stock}\r\n".encode()


def state() -> tuple[list[tuple], int]:
    """The variants (SKU, price, stock) and how many ledger rows there are."""
    db.session.expire_all()
    variants = db.session.execute(
        sa.select(Variant.sku, Variant.price_amount, Variant.stock_quantity).order_by(Variant.id)
    ).all()
    movements = db.session.scalar(sa.select(sa.func.count()).select_from(StockMovement))
    return [tuple(row) for row in variants], movements


def upload(browser: FlaskClient, data: bytes, name: str = "catalogue.csv"):
    return browser.post(
        "/staff/products/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def token_of(html: str) -> str:
    return re.search(r'action="/staff/products/import/([A-Za-z0-9_-]+)"', html).group(1)  # type: ignore[union-attr]


# -- who may reach the pages -------------------------------------------------------------------


def test_a_visitor_is_sent_to_sign_in_and_nothing_changes(app: Flask, client: FlaskClient) -> None:
    ProductFactory(title="Mug", variants=[{"sku": "MUG-1", "price": 1000, "stock_quantity": 2}])
    before = state()

    for path in ("/staff/products/export.csv", "/staff/products/import"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/account/sign-in?next=%2Fstaff%2F")
    assert upload(client, catalogue_file()).status_code == 302
    assert client.post("/staff/products/import/" + "a" * 32).status_code == 302
    assert state() == before


def test_a_customer_and_staff_without_catalog_manage_are_refused(
    app: Flask,
    customer: User,
    staff_user: User,
    signed_in,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ProductFactory(title="Mug", variants=[{"sku": "MUG-1", "price": 1000, "stock_quantity": 2}])
    before = state()
    monkeypatch.setitem(
        ROLE_PERMISSIONS, Role.STAFF, ROLE_PERMISSIONS[Role.STAFF] - {Permission.CATALOG_MANAGE}
    )

    for user in (customer, staff_user):
        browser = signed_in(user)
        assert browser.get("/staff/products/export.csv").status_code == 403
        assert browser.get("/staff/products/import").status_code == 403
        assert upload(browser, catalogue_file(price="1.00")).status_code == 403
        assert browser.post("/staff/products/import/" + "a" * 32).status_code == 403
    assert state() == before


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admins_export_a_csv_download(
    app: Flask,
    role: str,
    staff_user: User,
    admin_user: User,
    signed_in,
) -> None:
    ProductFactory(title="=Mug", variants=[{"sku": "MUG-1", "price": 1250, "stock_quantity": 2}])
    browser = signed_in(staff_user if role == "staff" else admin_user)

    response = browser.get("/staff/products/export.csv")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="catalogue-')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))
    assert rows[0] == HEADER.split(",")
    assert rows[1][1] == "'=Mug"  # a spreadsheet shows it as text, never runs it
    assert rows[1][7:] == ["MUG-1", "", "", "12.50", "2"]
    assert 'href="/staff/products/export.csv"' in browser.get("/staff/products").get_data(
        as_text=True
    )


# -- upload, preview, confirm ------------------------------------------------------------------


def test_an_upload_is_previewed_then_imported_on_confirm(
    app: Flask,
    staff_user: User,
    signed_in,
) -> None:
    ProductFactory(title="Mug", variants=[{"sku": "MUG-1", "price": 1000, "stock_quantity": 2}])
    browser = signed_in(staff_user)
    before = state()

    preview = upload(browser, catalogue_file(price="12.50", stock="7"))

    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert '<th scope="row">Variants updated</th><td>1</td>' in html
    assert "<tr><td>MUG-1</td><td>2</td><td>7</td></tr>" in html
    assert state() == before  # a preview writes nothing
    token = token_of(html)
    assert 'name="file"' not in html.split("import_confirm")[-1]

    confirmed = browser.post(f"/staff/products/import/{token}")

    assert confirmed.status_code == 303
    assert confirmed.headers["Location"] == "/staff/products"
    assert state() == ([("MUG-1", 1250, 7)], 2)  # opening balance, then the count
    # the kept file is gone: confirming twice imports nothing twice
    again = browser.post(f"/staff/products/import/{token}")
    assert again.status_code == 303
    assert again.headers["Location"] == "/staff/products/import"
    assert state() == ([("MUG-1", 1250, 7)], 2)


def test_a_file_with_errors_shows_them_by_row_and_column_and_keeps_nothing(
    app: Flask,
    staff_user: User,
    signed_in,
) -> None:
    ProductFactory(title="Mug", variants=[{"sku": "MUG-1", "price": 1000, "stock_quantity": 2}])
    browser = signed_in(staff_user)
    before = state()
    kept_before = set((Path(app.config["CATALOG_IMPORTS_FOLDER"])).glob("*"))

    response = upload(browser, catalogue_file(price="cheap", stock="lots"))

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    table = html.split('id="import-errors"')[1].split("</table>")[0]
    assert re.findall(r"<tr><td>(\d+)</td><td>(\w+)</td>", table) == [
        ("2", "price"),
        ("2", "stock"),
    ]
    assert state() == before
    assert set((Path(app.config["CATALOG_IMPORTS_FOLDER"])).glob("*")) == kept_before


def test_stock_changes_need_inventory_adjust(
    app: Flask,
    staff_user: User,
    signed_in,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ProductFactory(title="Mug", variants=[{"sku": "MUG-1", "price": 1000, "stock_quantity": 2}])
    monkeypatch.setitem(
        ROLE_PERMISSIONS, Role.STAFF, ROLE_PERMISSIONS[Role.STAFF] - {Permission.INVENTORY_ADJUST}
    )
    browser = signed_in(staff_user)
    before = state()

    assert upload(browser, catalogue_file(stock="9")).status_code == 403
    # a price alone is the catalogue's: allowed
    preview = upload(browser, catalogue_file(price="11.00", stock="2"))
    assert preview.status_code == 200
    assert (
        browser.post(
            f"/staff/products/import/{token_of(preview.get_data(as_text=True))}"
        ).status_code
        == 303
    )
    assert state() == ([("MUG-1", 1100, 2)], before[1])


def test_an_expired_or_someone_elses_upload_is_not_imported(
    app: Flask,
    staff_user: User,
    admin_user: User,
    signed_in,
) -> None:
    ProductFactory(title="Mug", variants=[{"sku": "MUG-1", "price": 1000, "stock_quantity": 2}])
    staff = signed_in(staff_user)
    admin = signed_in(admin_user)
    before = state()
    token = token_of(upload(staff, catalogue_file(price="3.00")).get_data(as_text=True))

    # another staff member cannot confirm it
    assert admin.post(f"/staff/products/import/{token}").headers["Location"] == (
        "/staff/products/import"
    )
    # once it has expired, neither can its owner
    kept = Path(app.config["CATALOG_IMPORTS_FOLDER"]) / f"{staff_user.id}-{token}.csv"
    an_hour_ago = time.time() - 3600
    os.utime(kept, (an_hour_ago, an_hour_ago))
    assert staff.post(f"/staff/products/import/{token}").headers["Location"] == (
        "/staff/products/import"
    )
    assert not kept.exists()
    assert staff.post("/staff/products/import/..%2F..%2Fsecret_key").status_code in (303, 404)
    assert state() == before
    assert db.session.scalar(sa.select(Product.title)) == "Mug"
