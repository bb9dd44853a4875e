"""Staff stock pages (US-29): who may reach them, the figures staff see, adjustments through the
ledger, thresholds, and bad input that changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts.models import Role, User
from funnel.accounts.permissions import ROLE_PERMISSIONS, Permission
from funnel.catalog.models import Variant
from funnel.core import clock
from funnel.extensions import db
from funnel.inventory import queries
from funnel.inventory import services as inventory
from funnel.inventory.models import StockMovement
from tests.factories.catalog import ProductFactory
from tests.factories.inventory import StockReservationFactory, stocked_variant
from tests.factories.orders import place

pytestmark = pytest.mark.story("US-29")


def pages(variant: Variant) -> list[str]:
    return ["/staff/stock", "/staff/stock?low=1&q=inv", f"/staff/variants/{variant.id}/stock"]


def posts(variant: Variant) -> dict[str, dict[str, str]]:
    return {
        f"/staff/variants/{variant.id}/stock/adjustments": {
            "kind": "change",
            "quantity": "3",
            "reason": "received",
        },
        f"/staff/variants/{variant.id}/stock/threshold": {"threshold": "9"},
    }


def state(variant_id: int) -> tuple[int, int | None, int]:
    """Stock, own threshold, number of movements."""
    db.session.expire_all()
    stored = db.session.get(Variant, variant_id)
    movements = db.session.scalar(
        sa.select(sa.func.count()).where(StockMovement.variant_id == variant_id)
    )
    return stored.stock_quantity, stored.low_stock_threshold, movements


def history_rows(html: str) -> list[list[str]]:
    """The movement history's rows, without the time: who, reason, change, after, order, note."""
    body = html.split('id="history-heading"')[1].split("<tbody>")[1].split("</tbody>")[0]
    return [re.findall(r"<td>(.*?)</td>", row, re.S)[1:] for row in body.split("</tr>")[:-1]]


def cells(html: str) -> dict[str, str]:
    """The levels table of a variant's stock page: cell id -> text."""
    found = {}
    for name in ("on-hand", "reserved", "available", "threshold"):
        found[name] = html.split(f'<td id="{name}">')[1].split("</td>")[0]
    return found


# -- who may reach the pages -------------------------------------------------------------------


def test_a_visitor_is_sent_to_sign_in_and_changes_nothing(app: Flask, client: FlaskClient) -> None:
    variant = stocked_variant(5)

    for path in pages(variant):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/account/sign-in?next=%2Fstaff%2F")
    for path, form in posts(variant).items():
        assert client.post(path, data=form).status_code == 302
    assert state(variant.id) == (5, None, 0)


def test_a_customer_gets_403_and_changes_nothing(app: Flask, customer: User, signed_in) -> None:
    variant = stocked_variant(5)
    browser = signed_in(customer)

    for path in pages(variant):
        assert browser.get(path).status_code == 403
    for path, form in posts(variant).items():
        assert browser.post(path, data=form).status_code == 403
    assert state(variant.id) == (5, None, 0)


def test_staff_without_the_permission_get_403_and_change_nothing(
    app: Flask, staff_user: User, signed_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a shop whose staff role does not hold inventory.adjust
    variant = stocked_variant(5)
    monkeypatch.setitem(
        ROLE_PERMISSIONS, Role.STAFF, ROLE_PERMISSIONS[Role.STAFF] - {Permission.INVENTORY_ADJUST}
    )
    browser = signed_in(staff_user)

    for path in pages(variant):
        assert browser.get(path).status_code == 403
    for path, form in posts(variant).items():
        assert browser.post(path, data=form).status_code == 403
    assert state(variant.id) == (5, None, 0)


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admins_see_the_pages_and_adjust(
    app: Flask, staff_user: User, admin_user: User, signed_in, role: str
) -> None:
    variant = stocked_variant(5)
    browser = signed_in(staff_user if role == "staff" else admin_user)

    for path in pages(variant):
        assert browser.get(path).status_code == 200
    for path, form in posts(variant).items():
        response = browser.post(path, data=form)
        assert response.status_code == 303
        assert response.headers["Location"] == f"/staff/variants/{variant.id}/stock"
    assert state(variant.id) == (8, 9, 2)


def test_the_services_refuse_a_customer_as_well(app: Flask, customer: User) -> None:
    from funnel.core.errors import PermissionDenied

    variant = stocked_variant(5)

    with pytest.raises(PermissionDenied):
        inventory.adjust_stock(variant.id, delta=1, reason="received", actor_id=customer.id)
    with pytest.raises(PermissionDenied):
        inventory.set_low_stock_threshold(variant.id, 3, actor_id=customer.id)
    db.session.rollback()
    assert state(variant.id) == (5, None, 0)


def test_the_dashboard_links_to_the_stock_list(app: Flask, staff_user: User, signed_in) -> None:
    html = signed_in(staff_user).get("/staff/").text

    assert '<a href="/staff/stock">Stock</a>' in html


# -- the list ------------------------------------------------------------------------------------


@pytest.mark.config(LOW_STOCK_THRESHOLD=5)
def test_the_list_shows_on_hand_reserved_available_and_threshold(
    app: Flask, staff_user: User, signed_in
) -> None:
    # given a variant with 8 on hand, 3 held by a live checkout and 2 by an expired one
    product = ProductFactory(
        title="Oak shelf", variants=[{"sku": "LIST-1", "stock_quantity": 8, "title": "Large"}]
    )
    variant = db.session.scalars(sa.select(Variant).where(Variant.product_id == product.id)).one()
    StockReservationFactory(variant_id=variant.id, quantity=3)
    StockReservationFactory(
        variant_id=variant.id, quantity=2, expires_at=clock.utcnow() - timedelta(minutes=1)
    )

    # when staff open the stock list
    html = signed_in(staff_user).get("/staff/stock?q=list-1").text

    # then the row shows 8 on hand, 3 reserved, 5 available, low at the default threshold 5
    row = html.split("<tbody>")[1].split("</tr>")[0]
    cells_text = [cell.split("</td>")[0] for cell in row.split("<td>")[1:]]
    assert cells_text == [
        f'<a href="/staff/variants/{variant.id}/stock">LIST-1</a>',
        "Oak shelf · Large",
        "8",
        "3",
        '5 <strong class="low-stock">Low</strong>',
        "5 <small>(default)</small>",
    ]
    assert "1 variant matching “list-1”." in html


def test_low_stock_only_keeps_variants_at_or_below_their_threshold(
    app: Flask, staff_user: User, signed_in
) -> None:
    # given variants with 5 (default threshold 5), 6, 20 (own threshold 20) and 21 available
    stocked_variant(5, sku="LOW-A")
    stocked_variant(6, sku="LOW-B")
    at_own = stocked_variant(20, sku="LOW-C")
    above_own = stocked_variant(21, sku="LOW-D")
    inventory.set_low_stock_threshold(at_own.id, 20)
    inventory.set_low_stock_threshold(above_own.id, 20)
    held = stocked_variant(7, sku="LOW-E")
    StockReservationFactory(variant_id=held.id, quantity=2)
    browser = signed_in(staff_user)

    # when staff ask for low stock only
    html = browser.get("/staff/stock?low=1").text

    # then the variants at or below their threshold are listed, by SKU
    listed = [sku for sku in ("LOW-A", "LOW-B", "LOW-C", "LOW-D", "LOW-E") if f">{sku}</a>" in html]
    assert listed == ["LOW-A", "LOW-C", "LOW-E"]
    assert "3 variants low on stock." in html


def test_the_list_searches_by_product_title_and_pages_by_fifty(
    app: Flask, staff_user: User, signed_in
) -> None:
    ProductFactory(
        title="Walnut desk",
        variants=[{"sku": f"DESK-{number:03d}", "stock_quantity": 50} for number in range(51)],
    )
    ProductFactory(title="Chair", variants=[{"sku": "CHAIR-1"}])
    browser = signed_in(staff_user)

    first = browser.get("/staff/stock?q=WALNUT").text
    second = browser.get("/staff/stock?q=WALNUT&page=2").text

    assert first.count('href="/staff/variants/') == 50
    assert second.count('href="/staff/variants/') == 1
    assert ">DESK-050</a>" in second
    assert "CHAIR-1" not in first + second
    assert "Page 1 of 2" in first
    assert '<a href="/staff/stock?page=2&amp;q=WALNUT" rel="next">' in first


def test_a_search_for_like_wildcards_matches_them_literally(
    app: Flask, staff_user: User, signed_in
) -> None:
    stocked_variant(5, sku="PCT-1")

    html = signed_in(staff_user).get("/staff/stock?q=%25").text

    assert "0 variants matching “%”." in html


def test_the_list_reads_a_page_in_a_constant_number_of_queries(
    app: Flask, staff_user: User, signed_in, sql_statements: list[str]
) -> None:
    browser = signed_in(staff_user)
    for _ in range(3):
        stocked_variant(5)
    sql_statements.clear()
    browser.get("/staff/stock")
    few = len(sql_statements)
    for _ in range(7):
        variant = stocked_variant(5)
        StockReservationFactory(variant_id=variant.id)
    sql_statements.clear()

    html = browser.get("/staff/stock").text

    assert html.count('href="/staff/variants/') == 10
    assert len(sql_statements) == few


@pytest.mark.parametrize(
    ("path", "status"), [("/staff/stock?page=0", 400), ("/staff/stock?page=x", 400)]
)
def test_a_bad_page_number_is_a_400(
    app: Flask, staff_user: User, signed_in, path: str, status: int
) -> None:
    assert signed_in(staff_user).get(path).status_code == status


# -- a variant's page ---------------------------------------------------------------------------


def test_an_unknown_variant_is_a_404(app: Flask, staff_user: User, signed_in) -> None:
    browser = signed_in(staff_user)

    assert browser.get("/staff/variants/999999/stock").status_code == 404
    form = {"kind": "change", "quantity": "1", "reason": "received"}
    assert browser.post("/staff/variants/999999/stock/adjustments", data=form).status_code == 404
    assert browser.post("/staff/variants/999999/stock/threshold", data={}).status_code == 404


def test_an_adjustment_goes_through_the_ledger_and_is_shown(
    app: Flask, staff_user: User, signed_in
) -> None:
    # given a variant with 5 units and no movement yet
    variant = stocked_variant(5)
    browser = signed_in(staff_user)

    # when staff receive 12, write off 2 and then count 10
    for form in (
        {"kind": "change", "quantity": "+12", "reason": "received", "note": "Delivery 4411"},
        {"kind": "change", "quantity": "-2", "reason": "damaged", "note": "Dropped"},
        {"kind": "count", "quantity": "10", "reason": "counted", "note": ""},
    ):
        response = browser.post(
            f"/staff/variants/{variant.id}/stock/adjustments", data=form, follow_redirects=True
        )
        assert response.status_code == 200
    html = response.text

    # then the stock is 10, and equals the sum of the movements
    assert state(variant.id) == (10, None, 4)
    assert queries.ledger_discrepancies() == []
    assert "Stock -5 (counted): 10 on hand now." in html
    assert cells(html) == {
        "on-hand": "10",
        "reserved": "0",
        "available": "10",
        "threshold": "5 (the shop's default)",
    }
    # and the history shows each movement, newest first, with who and why
    assert history_rows(html) == [
        ["staff@example.com", "Counted", "-5", "10", "", ""],
        ["staff@example.com", "Damaged", "-2", "15", "", "Dropped"],
        ["staff@example.com", "Received", "+12", "17", "", "Delivery 4411"],
        ["System", "Opening balance", "+5", "5", "", "Level before the first recorded movement"],
    ]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"kind": "change", "quantity": "", "reason": "received"}, "Enter a whole number"),
        ({"kind": "change", "quantity": "two", "reason": "received"}, "Enter a whole number"),
        ({"kind": "change", "quantity": "1.5", "reason": "received"}, "Enter a whole number"),
        (
            {"kind": "change", "quantity": "0", "reason": "received"},
            "Must be a whole number other than 0.",
        ),
        ({"kind": "count", "quantity": "-1", "reason": "counted"}, "Must be between 0 and"),
        ({"kind": "change", "quantity": "1", "reason": "sale"}, "Not a valid choice."),
        ({"kind": "guess", "quantity": "1", "reason": "received"}, "Not a valid choice."),
        (
            {"kind": "change", "quantity": "1", "reason": "received", "note": "x" * 501},
            "At most 500 characters.",
        ),
        (
            {"kind": "change", "quantity": "99999999999", "reason": "received"},
            "Enter a whole number",
        ),
    ],
)
def test_bad_adjustment_input_is_a_422_beside_the_field_and_changes_nothing(
    app: Flask, staff_user: User, signed_in, form: dict[str, str], message: str
) -> None:
    variant = stocked_variant(5)

    response = signed_in(staff_user).post(
        f"/staff/variants/{variant.id}/stock/adjustments", data=form
    )

    assert response.status_code == 422
    assert 'class="field-error">' + message in response.text
    assert state(variant.id) == (5, None, 0)


def test_taking_more_than_is_on_hand_is_refused_and_changes_nothing(
    app: Flask, staff_user: User, signed_in
) -> None:
    variant = stocked_variant(5)

    response = signed_in(staff_user).post(
        f"/staff/variants/{variant.id}/stock/adjustments",
        data={"kind": "change", "quantity": "-7", "reason": "damaged"},
    )

    assert response.status_code == 409
    assert (
        '<small id="quantity-error" class="field-error">Only 5 on hand: 7 cannot go.</small>'
        in response.text
    )
    assert cells(response.text)["on-hand"] == "5"
    assert state(variant.id) == (5, None, 0)


def test_a_threshold_of_its_own_and_back_to_the_default(
    app: Flask, staff_user: User, signed_in
) -> None:
    variant = stocked_variant(8)
    browser = signed_in(staff_user)
    path = f"/staff/variants/{variant.id}/stock/threshold"

    set_html = browser.post(path, data={"threshold": " 12 "}, follow_redirects=True).text
    assert state(variant.id) == (8, 12, 0)
    assert "Low stock from 12 available units." in set_html
    assert cells(set_html)["threshold"] == "12"
    assert cells(set_html)["available"] == '8 <strong class="low-stock">Low</strong>'
    assert 'name="threshold" type="text" value="12"' in set_html

    cleared = browser.post(path, data={"threshold": ""}, follow_redirects=True).text
    assert state(variant.id) == (8, None, 0)
    assert "Low stock from the shop&#39;s default, 5 available units." in cleared
    assert cells(cleared)["available"] == "8"


@pytest.mark.parametrize("value", ["-1", "ten", "2.5", "99999999999"])
def test_a_bad_threshold_is_a_422_and_changes_nothing(
    app: Flask, staff_user: User, signed_in, value: str
) -> None:
    variant = stocked_variant(8)

    response = signed_in(staff_user).post(
        f"/staff/variants/{variant.id}/stock/threshold", data={"threshold": value}
    )

    assert response.status_code == 422
    assert 'class="field-error">' in response.text.split('id="threshold-heading"')[1]
    assert state(variant.id) == (8, None, 0)


def test_the_history_pages_by_fifty_newest_first(app: Flask, staff_user: User, signed_in) -> None:
    variant = stocked_variant(0)
    for _ in range(51):
        inventory.adjust_stock(variant.id, delta=1, reason="received")
    browser = signed_in(staff_user)

    first = browser.get(f"/staff/variants/{variant.id}/stock").text
    second = browser.get(f"/staff/variants/{variant.id}/stock?page=2").text

    assert first.count("<td>Received</td>") == 50
    assert history_rows(first)[0][1:4] == ["Received", "+1", "51"]
    assert "Page 1 of 2" in first
    assert second.count("<td>Received</td>") == 1
    assert "<td>Opening balance</td>" in second


def test_a_sale_in_the_history_links_to_its_order(app: Flask, staff_user: User, signed_in) -> None:
    variant = stocked_variant(5)
    order = place([(variant, 2)])

    html = signed_in(staff_user).get(f"/staff/variants/{variant.id}/stock").text

    assert history_rows(html)[0] == [
        "System",
        "Sale",
        "-2",
        "3",
        f'<a href="/staff/orders/{order.number}">{order.number}</a>',
        "",
    ]
