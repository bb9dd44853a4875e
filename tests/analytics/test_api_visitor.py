"""The sales funnel over the API: a headless storefront names its shopper in a
``Funnel-Visitor`` header, and the shop counts the same stages as on its own pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from funnel.accounts.models import User
from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.catalog.models import Product, Variant
from funnel.core import clock
from funnel.extensions import db
from tests.factories.inventory import stocked_variant
from tests.support.api import problem
from tests.support.api_carts import CARTS, CHECKOUTS, card, cart_rows, checkout_body

Bearer = Callable[..., dict[str, str]]
VISITOR = "headless-shopper-0001"
FUNNEL_ORDER = [stage.value for stage in FunnelStage]


def events() -> list[tuple[str, str, int | None, int | None]]:
    """Every funnel event: (stage, visitor id, user id, product id), in funnel order (a call's
    visit is recorded once it has answered, after what the call itself recorded)."""
    rows = db.session.execute(
        sa.select(
            FunnelEvent.stage, FunnelEvent.visitor_id, FunnelEvent.user_id, FunnelEvent.product_id
        ).order_by(FunnelEvent.id)
    )
    recorded = [(row[0].value, row[1], row[2], row[3]) for row in rows]
    return sorted(recorded, key=lambda event: FUNNEL_ORDER.index(event[0]))


def buy(client: FlaskClient, variant: Variant, headers: dict[str, str]) -> None:
    """A guest's purchase over the API: the product, a cart, a checkout, a good card."""
    product = db.session.get(Product, variant.product_id)
    assert product is not None
    viewed = client.get(f"/api/v1/products/{product.slug}", headers=headers)
    assert viewed.status_code == 200, viewed.get_data(as_text=True)
    cart_id, secret = guest_cart_with(client, headers)
    both = headers | secret
    added = client.post(
        f"{CARTS}/{cart_id}/lines", json={"variant_id": variant.id, "quantity": 1}, headers=both
    )
    assert added.status_code == 201, added.get_data(as_text=True)
    started = client.post(CHECKOUTS, json=checkout_body(cart_id), headers=both)
    assert started.status_code == 201, started.get_data(as_text=True)
    completed = client.post(
        f"{CHECKOUTS}/{started.get_json()['id']}/complete",
        json={"payment_method": "test", "card": card()},
        headers=both,
    )
    assert completed.get_json()["outcome"] == "paid", completed.get_data(as_text=True)


def guest_cart_with(client: FlaskClient, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    response = client.post(CARTS, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    return body["id"], {"Cart-Secret": body["secret"]}


@pytest.mark.story("US-37")
def test_a_headless_purchase_with_the_header_counts_every_stage(client: FlaskClient) -> None:
    # given a product, and a storefront that names its shopper
    variant = stocked_variant(3)

    # when the shopper buys it through the API
    buy(client, variant, {"Funnel-Visitor": VISITOR})

    # then the funnel holds each stage once, all the shopper's, set no cookie
    product = variant.product_id
    assert events() == [
        ("visit", VISITOR, None, None),
        ("product_view", VISITOR, None, product),
        ("add_to_cart", VISITOR, None, product),
        ("checkout_started", VISITOR, None, None),
        ("payment_attempted", VISITOR, None, None),
        ("order_paid", VISITOR, None, None),
    ]


def test_calls_without_the_header_are_not_counted_and_get_no_cookie(client: FlaskClient) -> None:
    variant = stocked_variant(3)

    buy(client, variant, {})

    assert events() == []
    response = client.get("/api/v1/products")
    assert response.headers.getlist("Set-Cookie") == []


@pytest.mark.story("US-37")
def test_a_bearer_shoppers_events_name_their_account(
    client: FlaskClient, customer: User, bearer: Bearer
) -> None:
    variant = stocked_variant(3)
    product = db.session.get(Product, variant.product_id)
    assert product is not None
    headers = bearer(customer) | {"Funnel-Visitor": VISITOR}

    viewed = client.get(f"/api/v1/products/{product.slug}", headers=headers)

    assert viewed.status_code == 200
    assert events() == [
        ("visit", VISITOR, customer.id, None),
        ("product_view", VISITOR, customer.id, product.id),
    ]


def test_a_dead_token_counts_the_visitor_without_an_account(client: FlaskClient) -> None:
    headers = {"Authorization": "Bearer fn_not-a-live-token", "Funnel-Visitor": VISITOR}

    response = client.get("/api/v1/categories", headers=headers)

    assert response.status_code == 200
    assert events() == [("visit", VISITOR, None, None)]


def test_staff_are_never_counted(client: FlaskClient, staff_user: User, bearer: Bearer) -> None:
    variant = stocked_variant(3)
    product = db.session.get(Product, variant.product_id)
    assert product is not None

    response = client.get(
        f"/api/v1/products/{product.slug}",
        headers=bearer(staff_user) | {"Funnel-Visitor": VISITOR},
    )

    assert response.status_code == 200
    assert events() == []


@pytest.mark.parametrize("header", [("DNT", "1"), ("Sec-GPC", "1")])
def test_do_not_track_and_global_privacy_control_are_honoured(
    client: FlaskClient, header: tuple[str, str]
) -> None:
    variant = stocked_variant(3)

    buy(client, variant, {"Funnel-Visitor": VISITOR, header[0]: header[1]})

    assert events() == []


@pytest.mark.parametrize(
    "value", ["short", "has space in it here", "x" * 65, "semi;colon-0123456789", ""]
)
def test_a_malformed_header_is_a_400_and_changes_nothing(client: FlaskClient, value: str) -> None:
    # when a cart is asked for with a header that is not a visitor id
    response = client.post(CARTS, headers={"Funnel-Visitor": value})

    # then the call is refused with the rule, and no cart and no event were made
    body = problem(response, 400, "visitor_id_invalid")
    assert body["detail"] == (
        "Send Funnel-Visitor as 16 to 64 letters, digits, '-' or '_', or leave it out."
    )
    assert cart_rows() == []
    assert events() == []


@pytest.mark.story("US-37")
def test_a_visit_is_counted_once_a_day_and_later_calls_touch_no_events(
    client: FlaskClient, sql_statements: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a visitor whose first call of the day was counted
    headers = {"Funnel-Visitor": VISITOR}
    first = client.get("/api/v1/categories", headers=headers)
    assert first.status_code == 200
    sql_statements.clear()

    # when it calls again the same day, and once more the next day
    again = client.get("/api/v1/categories", headers=headers)
    touched_again = [sql for sql in sql_statements if "funnel_events" in sql]
    tomorrow = clock.utcnow() + timedelta(days=1)
    monkeypatch.setattr(clock, "utcnow", lambda: tomorrow)
    next_day = client.get("/api/v1/categories", headers=headers)

    # then the same day's call did not touch the events, and each day has one visit
    assert again.status_code == next_day.status_code == 200
    assert touched_again == []
    assert events() == [("visit", VISITOR, None, None), ("visit", VISITOR, None, None)]


def test_a_refused_call_is_not_a_visit(client: FlaskClient) -> None:
    response = client.get("/api/v1/products/no-such-product", headers={"Funnel-Visitor": VISITOR})

    assert response.status_code == 404
    assert events() == []


def test_the_document_offers_the_header_and_its_400_to_shoppers_not_staff(
    client: FlaskClient,
) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    reference = {"$ref": "#/components/parameters/FunnelVisitor"}

    header = document["components"]["parameters"]["FunnelVisitor"]
    assert (header["in"], header["name"], header["required"]) == ("header", "Funnel-Visitor", False)
    assert header["schema"] == {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"}
    for path, item in document["paths"].items():
        is_shoppers = not path.startswith("/api/v1/staff/")
        assert (reference in item.get("parameters", [])) is is_shoppers, path
        for method, operation in item.items():
            if method != "parameters" and is_shoppers:
                assert "400" in operation["responses"], f"{method} {path}"
