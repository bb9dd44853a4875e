"""Driving the checkout through the Flask test client, as a browser without JavaScript does."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from sqlalchemy import func, select

from funnel.catalog.models import Variant
from funnel.checkout.models import Checkout
from funnel.core import clock
from funnel.extensions import db
from funnel.inventory.models import StockMovement, StockReservation
from funnel.orders.models import Order
from funnel.payments.models import Payment

CARD_SUCCEEDS = "4242 4242 4242 4242"
CARD_DECLINED = "4000 0000 0000 0002"
CARD_INSUFFICIENT_FUNDS = "4000 0000 0000 9995"
CARD_3DS = "4000 0000 0000 3220"
CARD_PROCESSING = "4000 0000 0000 0259"
ADDRESS = {
    "saved_address": "new",
    "full_name": "Ann Smith",
    "line1": "1 High Street",
    "city": "Bristol",
    "postal_code": "BS1 4DJ",
    "country_code": "GB",
}
_SUBMIT_TOKEN = re.compile(r'name="submit_token" type="hidden" value="([^"]*)"')


def expiry() -> str:
    return f"12/{(clock.utcnow().year + 3) % 100:02d}"


def add_to_cart(client: FlaskClient, variant: Any, quantity: int = 1) -> None:
    response = client.post("/cart/lines", data={"variant_id": variant.id, "quantity": quantity})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]


def submit_token_of(html: str) -> str:
    match = _SUBMIT_TOKEN.search(html)
    assert match, "no submit token on the page"
    return match.group(1)


def go_to_pay(
    client: FlaskClient,
    *,
    email: str = "guest@example.com",
    address: dict[str, str] | None = None,
    method: str = "standard",
) -> str:
    """Contact, address, shipping, review; returns the pay form's one-time token."""
    for path, data in (
        ("/checkout", {"email": email}),
        ("/checkout/address", address or ADDRESS),
        ("/checkout/shipping", {"shipping_method": method}),
        ("/checkout/review", {}),
    ):
        response = client.post(path, data=data)
        assert response.status_code == 303, (path, response.get_data(as_text=True)[:800])
    page = client.get("/checkout/pay")
    assert page.status_code == 200
    return submit_token_of(page.get_data(as_text=True))


def pay(
    client: FlaskClient,
    token: str,
    card: str | None = CARD_SUCCEEDS,
    *,
    gateway: str = "test",
    follow: bool = False,
) -> Any:
    data = {"payment_method": gateway, "submit_token": token}
    if card is not None:
        data |= {"card_number": card, "card_expiry": expiry(), "card_cvc": "123"}
    return client.post("/checkout/pay", data=data, follow_redirects=follow)


def path_of(response: Any) -> str:
    return urlsplit(response.headers["Location"]).path


def order_numbers() -> list[str]:
    return list(db.session.scalars(select(Order.number).order_by(Order.id)))


def orders() -> list[Order]:
    return list(db.session.scalars(select(Order).order_by(Order.id)))


def stock_of(variant_id: int) -> int:
    return int(db.session.scalar(select(Variant.stock_quantity).where(Variant.id == variant_id)))


def count(model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)))


def counts() -> dict[str, int]:
    return {
        "orders": count(Order),
        "payments": count(Payment),
        "movements": count(StockMovement),
        "reservations": count(StockReservation),
    }


def the_checkout() -> Checkout:
    return db.session.scalars(select(Checkout).order_by(Checkout.id.desc())).first()
