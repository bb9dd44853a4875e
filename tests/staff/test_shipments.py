"""Shipping from the staff pages and the staff API (US-30): who may ship and print packing
slips, the "Ship items" form, the packing slip without prices, shipments on the customer's
page, and a double submit that ships once."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts.models import Role, User
from funnel.accounts.permissions import ROLE_PERMISSIONS, Permission
from funnel.catalog.models import Variant
from funnel.extensions import db
from funnel.inventory.models import StockMovement
from funnel.orders import queries
from funnel.orders.models import Order, OrderStatus, Shipment, ShipmentLine
from funnel.payments import queries as payment_queries
from funnel.payments.models import PaymentStatus
from tests.factories.accounts import UserFactory
from tests.factories.inventory import stocked_variant
from tests.factories.orders import pay_by_card, place
from tests.orders.helpers import statuses
from tests.support.api import problem
from tests.support.api_staff import STAFF, Bearer
from tests.support.mailbox import Mailbox

pytestmark = pytest.mark.story("US-30")

ROLES = ("anonymous", "customer", "staff_without_fulfil", "staff", "admin")
FORM_TOKEN = "t" * 24


def paid_order(**place_arguments) -> Order:
    """A paid order of 2 units of one line and 1 of another."""
    order = place([(stocked_variant(10), 2), (stocked_variant(10), 1)], **place_arguments)
    pay_by_card(order)
    return order


def shipment_rows(order: Order) -> list[tuple[int, int]]:
    """(order line id, quantity) of every shipment line of the order, oldest first."""
    db.session.expire_all()
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(ShipmentLine.order_line_id, ShipmentLine.quantity)
            .join(Shipment, ShipmentLine.shipment_id == Shipment.id)
            .where(Shipment.order_id == order.id)
            .order_by(ShipmentLine.id)
        )
    ]


def ship_form(order: Order, **quantities: int) -> dict[str, str]:
    first, second = queries.order_lines(order)
    return {
        "idempotency_key": FORM_TOKEN,
        f"quantity-{first.id}": str(quantities.get("first", 1)),
        f"quantity-{second.id}": str(quantities.get("second", 0)),
        "carrier": "dhl",
        "tracking_number": "JD0001",
    }


def browser_for(role: str, client: FlaskClient, signed_in, monkeypatch: pytest.MonkeyPatch):
    if role == "anonymous":
        return client
    if role == "staff_without_fulfil":
        monkeypatch.setitem(
            ROLE_PERMISSIONS, Role.STAFF, ROLE_PERMISSIONS[Role.STAFF] - {Permission.ORDERS_FULFIL}
        )
        role = "staff"
    return signed_in(UserFactory(email=f"{role}-shipper@example.com", role=Role(role)))


# -- the pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_who_may_ship_and_print_packing_slips(
    app: Flask, client: FlaskClient, signed_in, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    # given a paid order and a browser of ``role``
    order = paid_order()
    browser = browser_for(role, client, signed_in, monkeypatch)

    # when it opens the packing slip and posts the "Ship items" form
    slip = browser.get(f"/staff/orders/{order.number}/packing-slip")
    shipped = browser.post(f"/staff/orders/{order.number}/shipments", data=ship_form(order))

    # then only staff holding orders.fulfil get through; the others change nothing
    if role == "anonymous":
        assert (slip.status_code, shipped.status_code) == (302, 302)
        assert slip.headers["Location"].startswith("/account/sign-in?next=%2Fstaff%2Forders")
    elif role in {"customer", "staff_without_fulfil"}:
        assert (slip.status_code, shipped.status_code) == (403, 403)
    else:
        assert (slip.status_code, shipped.status_code) == (200, 303)
    if role in {"staff", "admin"}:
        assert shipment_rows(order) == [(queries.order_lines(order)[0].id, 1)]
    else:
        assert shipment_rows(order) == []
        assert statuses(order) == [(None, "pending_payment"), ("pending_payment", "paid")]


def test_staff_without_fulfil_are_not_offered_the_form(
    app: Flask, client: FlaskClient, signed_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = paid_order()
    browser = browser_for("staff_without_fulfil", client, signed_in, monkeypatch)

    page = browser.get(f"/staff/orders/{order.number}").text

    assert "/shipments" not in page


def test_the_form_ships_part_then_the_rest_and_lists_the_shipments(
    app: Flask, staff_user: User, signed_in, mailbox: Mailbox
) -> None:
    # given a paid order of 2 + 1 units
    order = paid_order()
    first, second = queries.order_lines(order)
    browser = signed_in(staff_user)

    # then the form offers what remains of each line
    page = browser.get(f"/staff/orders/{order.number}").text
    assert f'name="quantity-{first.id}" type="number" min="0" max="2"' in page
    assert re.search(rf'id="quantity-{second.id}"[^>]*value="1"', page)

    # when staff ship one unit, then the rest with a form token of their own
    partial = browser.post(f"/staff/orders/{order.number}/shipments", data=ship_form(order))
    rest = browser.post(
        f"/staff/orders/{order.number}/shipments",
        data={
            **ship_form(order, first=1, second=1),
            "idempotency_key": "u" * 24,
            "carrier": "other",
            "carrier_name": "Bike courier",
            "tracking_number": "",
        },
    )

    # then the order is shipped in full, and the page lists both parcels
    assert (partial.status_code, rest.status_code) == (303, 303)
    assert queries.get_order(order.number).status == OrderStatus.FULFILLED
    page = browser.get(f"/staff/orders/{order.number}").text
    assert "The order is shipped in full." in page
    assert ("Shipment 1" in page, "Shipment 2" in page) == (True, True)
    assert '<a href="https://www.dhl.com/en/express/tracking.html?AWB=JD0001"' in page
    assert "Bike courier" in page
    [first_shipment, _] = queries.order_shipments(order)
    slip_link = f"/staff/orders/{order.number}/packing-slip?shipment={first_shipment.id}"
    assert f'href="{slip_link}"' in page
    assert [message["Subject"] for message in mailbox][-2:] == [f"Order {order.number} shipped"] * 2


def test_a_partly_shipped_order_cannot_be_cancelled_and_keeps_its_money_and_stock(
    admin_user: User, signed_in
) -> None:
    # given a paid order of 2 + 1 units, one unit of which has shipped
    order = paid_order()
    browser = signed_in(admin_user)
    browser.post(f"/staff/orders/{order.number}/shipments", data=ship_form(order))
    stock_before = _stock_rows()

    # when staff look at it, then try to cancel it anyway
    page = browser.get(f"/staff/orders/{order.number}").text
    response = browser.post(f"/staff/orders/{order.number}/cancel", data={"reason": "Too late"})

    # then no cancel form is offered, the attempt is a 409 that says what to do instead, and
    # the order, its payment and the stock are as they were
    assert f'action="/staff/orders/{order.number}/cancel"' not in page
    assert response.status_code == 409
    assert "has shipped and cannot be cancelled: ship the rest, or refund" in response.text
    assert queries.get_order(order.number).status == OrderStatus.PAID
    assert payment_queries.live_payment_for(order.number).status == PaymentStatus.SUCCEEDED
    assert _stock_rows() == stock_before


def _stock_rows() -> list[tuple[int, int]]:
    """(variant id, units in stock) of every variant, and the ledger's length as (0, rows)."""
    db.session.expire_all()
    levels = db.session.execute(
        sa.select(Variant.id, Variant.stock_quantity).order_by(Variant.id)
    ).all()
    movements = db.session.scalar(sa.select(sa.func.count()).select_from(StockMovement))
    return [tuple(row) for row in levels] + [(0, movements)]


def test_over_shipping_from_the_form_is_a_422_and_changes_nothing(
    app: Flask, staff_user: User, signed_in
) -> None:
    order = paid_order()

    response = signed_in(staff_user).post(
        f"/staff/orders/{order.number}/shipments", data=ship_form(order, first=3)
    )

    assert response.status_code == 422
    assert "3 asked, 2 left to ship." in response.text
    assert shipment_rows(order) == []


def test_an_unpaid_order_is_a_409_and_changes_nothing(
    app: Flask, staff_user: User, signed_in
) -> None:
    order = place([(stocked_variant(10), 2), (stocked_variant(10), 1)])

    response = signed_in(staff_user).post(
        f"/staff/orders/{order.number}/shipments", data=ship_form(order)
    )

    assert response.status_code == 409
    assert "it cannot be shipped" in response.text
    assert shipment_rows(order) == []


def test_a_double_submit_of_the_form_ships_once(
    app: Flask, staff_user: User, signed_in, mailbox: Mailbox
) -> None:
    order = paid_order()
    browser = signed_in(staff_user)
    mailbox.clear()

    first = browser.post(f"/staff/orders/{order.number}/shipments", data=ship_form(order))
    second = browser.post(f"/staff/orders/{order.number}/shipments", data=ship_form(order))

    assert (first.status_code, second.status_code) == (303, 303)
    assert "This shipment was already recorded." in browser.get(second.headers["Location"]).text
    assert shipment_rows(order) == [(queries.order_lines(order)[0].id, 1)]
    assert len(mailbox) == 1


def test_the_packing_slip_shows_address_lines_and_quantities_but_no_prices(
    app: Flask, staff_user: User, signed_in
) -> None:
    order = paid_order()
    first, second = queries.order_lines(order)
    browser = signed_in(staff_user)
    browser.post(f"/staff/orders/{order.number}/shipments", data=ship_form(order, first=2))
    [shipment] = queries.order_shipments(order)

    whole = browser.get(f"/staff/orders/{order.number}/packing-slip").text
    parcel = browser.get(f"/staff/orders/{order.number}/packing-slip?shipment={shipment.id}").text

    for page in (whole, parcel):
        assert "$" not in page
        assert ("Ann Smith<br>" in page, "Bristol<br>BS1 4DJ<br>Britain (UK)" in page) == (
            True,
            True,
        )
        assert f"<td>{first.sku}</td>" in page
        assert "@media print" not in page  # the print rules live in the stylesheet
    assert f"<td>{second.sku}</td>" in whole
    assert f"<td>{second.sku}</td>" not in parcel
    assert "tracking JD0001" in parcel
    assert re.findall(r"<td>(\d+)</td>", whole) == ["2", "1", "3"]
    assert re.findall(r"<td>(\d+)</td>", parcel) == ["2", "2"]


@pytest.mark.parametrize("shipment", ["999999", "abc", "-1"])
def test_an_unknown_shipment_slip_is_a_404(
    app: Flask, staff_user: User, signed_in, shipment: str
) -> None:
    order = paid_order()

    response = signed_in(staff_user).get(
        f"/staff/orders/{order.number}/packing-slip?shipment={shipment}"
    )

    assert response.status_code == 404


@pytest.mark.story("US-23", "US-24", "US-30")
def test_the_customer_sees_shipments_with_tracking_links(
    app: Flask, customer: User, staff_user: User, signed_in
) -> None:
    order = paid_order(email=customer.email, user_id=customer.id)
    signed_in(staff_user).post(f"/staff/orders/{order.number}/shipments", data=ship_form(order))

    page = signed_in(customer).get(f"/account/orders/{order.number}").text

    assert "Shipment 1" in page
    assert '<a href="https://www.dhl.com/en/express/tracking.html?AWB=JD0001"' in page
    assert "packing-slip" not in page


# -- the API -----------------------------------------------------------------------------------


def api_headers(role: str, bearer: Bearer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    if role == "anonymous":
        return {}
    if role == "staff_without_fulfil":
        monkeypatch.setitem(
            ROLE_PERMISSIONS, Role.STAFF, ROLE_PERMISSIONS[Role.STAFF] - {Permission.ORDERS_FULFIL}
        )
        role = "staff"
    return bearer(UserFactory(email=f"{role}-api-shipper@example.com", role=Role(role)))


@pytest.mark.parametrize("role", ROLES)
def test_who_may_ship_through_the_api(
    client: FlaskClient, bearer: Bearer, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    order = paid_order()
    headers = {**api_headers(role, bearer, monkeypatch), "Idempotency-Key": "ship-1"}

    response = client.post(
        f"{STAFF}/orders/{order.number}/shipments", json={"carrier": "ups"}, headers=headers
    )

    if role == "anonymous":
        problem(response, 401, "authentication_required")
    elif role in {"customer", "staff_without_fulfil"}:
        problem(response, 403, "permission_denied")
    else:
        assert response.status_code == 201, response.get_data(as_text=True)
    expected = 2 if role in {"staff", "admin"} else 0
    assert len(shipment_rows(order)) == expected


def test_the_api_ships_part_then_all_and_a_retry_ships_once(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    order = paid_order()
    first, second = queries.order_lines(order)
    headers = bearer(staff_user)
    url = f"{STAFF}/orders/{order.number}/shipments"
    body = {
        "lines": [{"order_line_id": first.id, "quantity": 1}],
        "carrier": "fedex",
        "tracking_number": "7777",
    }

    partial = client.post(url, json=body, headers={**headers, "Idempotency-Key": "a"})
    retry = client.post(url, json=body, headers={**headers, "Idempotency-Key": "a"})
    rest = client.post(url, json={"carrier": "usps"}, headers={**headers, "Idempotency-Key": "b"})

    assert (partial.status_code, retry.status_code, rest.status_code) == (201, 201, 201)
    assert retry.get_json() == partial.get_json()
    shipment = partial.get_json()["shipment"]
    assert {key: shipment[key] for key in ("carrier", "carrier_name", "tracking_url")} == {
        "carrier": "fedex",
        "carrier_name": "FedEx",
        "tracking_url": "https://www.fedex.com/fedextrack/?trknbr=7777",
    }
    assert shipment["lines"][0]["order_line_id"] == first.id
    assert shipment["shipped_by_user_id"] == staff_user.id
    assert partial.get_json()["order"]["status"] == "paid"
    finished = rest.get_json()["order"]
    assert finished["status"] == "fulfilled"
    assert [len(item["lines"]) for item in finished["shipments"]] == [1, 2]
    assert [line["id"] for line in finished["lines"]] == [first.id, second.id]
    assert shipment_rows(order) == [(first.id, 1), (first.id, 1), (second.id, 1)]


@pytest.mark.parametrize(
    ("make", "body", "status", "code"),
    [
        ("paid", {"carrier": "ups", "lines": [{"order_line_id": "first", "quantity": 3}]}, 422,
         "shipment_exceeds_order"),
        ("paid", {"carrier": "ups", "lines": [{"order_line_id": "first", "quantity": 1}] * 2},
         422, "invalid_order_input"),
        ("paid", {"carrier": "ups", "lines": []}, 422, "validation_failed"),
        ("paid", {"carrier": "pigeon"}, 422, "validation_failed"),
        ("paid", {"carrier": "other"}, 422, "invalid_order_input"),
        ("pending", {"carrier": "ups"}, 409, "invalid_order_transition"),
    ],
)  # fmt: skip
def test_a_refused_shipment_is_a_problem_and_ships_nothing(
    client: FlaskClient, bearer: Bearer, staff_user: User, make: str, body: dict, status: int,
    code: str,
) -> None:  # fmt: skip
    order = paid_order() if make == "paid" else place()
    first_id = queries.order_lines(order)[0].id
    for line in body.get("lines") or []:
        line["order_line_id"] = first_id
    before = statuses(order)

    response = client.post(
        f"{STAFF}/orders/{order.number}/shipments",
        json=body,
        headers={**bearer(staff_user), "Idempotency-Key": "refused"},
    )

    problem(response, status, code)
    assert shipment_rows(order) == []
    assert statuses(order) == before
