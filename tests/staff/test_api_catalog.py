"""Staff API: products and variants (catalog.manage), stock and its ledger (inventory.adjust)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from funnel.accounts.models import User
from funnel.catalog.models import Product, ProductStatus, Variant
from funnel.extensions import db
from funnel.inventory import queries as inventory_queries
from funnel.inventory.models import StockMovement
from tests.factories.catalog import CategoryFactory, ProductFactory
from tests.factories.inventory import StockReservationFactory, stocked_variant
from tests.support.api import problem
from tests.support.api_staff import (
    ROLES,
    STAFF,
    Bearer,
    catalogue_state,
    headers_for,
    stock_state,
)


def _variant_of(product: Product) -> Variant:
    return db.session.scalars(sa.select(Variant).where(Variant.product_id == product.id)).one()


def _catalogue_calls(product: Product, variant: Variant) -> dict[str, tuple[str, str, Any, int]]:
    """Each catalogue operation: method, path, body, and its success status."""
    return {
        "create": (
            "POST",
            f"{STAFF}/products",
            {"title": "Enamel mug", "category_id": product.category_id},
            201,
        ),
        "get": ("GET", f"{STAFF}/products/{product.id}", None, 200),
        "update": ("PATCH", f"{STAFF}/products/{product.id}", {"title": "Renamed"}, 200),
        "archive": ("POST", f"{STAFF}/products/{product.id}/archive", None, 200),
        "publish": ("POST", f"{STAFF}/products/{product.id}/publish", None, 200),
        "add_variant": (
            "POST",
            f"{STAFF}/products/{product.id}/variants",
            {"sku": "MUG-XL", "price": {"amount": 1500, "currency": "USD"}},
            201,
        ),
        "update_variant": (
            "PATCH",
            f"{STAFF}/variants/{variant.id}",
            {"price": {"amount": 1200, "currency": "USD"}},
            200,
        ),
    }


CATALOGUE_OPERATIONS = (
    "create", "get", "update", "archive", "publish", "add_variant", "update_variant",
)  # fmt: skip


@pytest.mark.story("US-17", "US-28")
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", CATALOGUE_OPERATIONS)
def test_catalogue_operations_need_the_catalogue_permission(
    client: FlaskClient, bearer: Bearer, role: str, operation: str
) -> None:
    # given a draft product with one variant, and a caller of ``role``
    product = ProductFactory(status=ProductStatus.DRAFT)
    method, path, body, success = _catalogue_calls(product, _variant_of(product))[operation]
    headers = headers_for(role, bearer)
    before = catalogue_state()

    # when the caller calls the operation
    response = client.open(path, method=method, json=body, headers=headers)

    # then anonymous callers get 401, customers 403 and nothing changes; staff and admins pass
    if role == "anonymous":
        problem(response, 401, "authentication_required")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    elif role == "customer":
        problem(response, 403, "permission_denied")
    else:
        assert response.status_code == success, response.get_data(as_text=True)
    if role in {"anonymous", "customer"}:
        assert catalogue_state() == before


@pytest.mark.story("US-17")
def test_staff_create_a_product_with_variants_and_publish_it(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    category = CategoryFactory(name="Kitchen")

    response = client.post(
        f"{STAFF}/products",
        json={
            "title": "Enamel Mug",
            "category_id": category.id,
            "description": "Holds tea.",
            "variants": [
                {
                    "sku": "mug-s",
                    "price": {"amount": 1250, "currency": "USD"},
                    "options": {"size": "S"},
                },
                {"sku": "MUG-L", "price": {"amount": 1450, "currency": "USD"}, "title": "Large"},
            ],
            "publish": True,
        },
        headers=bearer(staff_user),
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    product = db.session.get(Product, body["id"])
    assert (product.status, product.slug, product.min_price_amount) == (
        ProductStatus.ACTIVE,
        "enamel-mug",
        1250,
    )
    assert (body["slug"], body["status"], body["price_from"]) == (
        "enamel-mug",
        "active",
        {"amount": 1250, "currency": "USD"},
    )
    assert [
        (v["sku"], v["price"]["amount"], v["options"], v["stock_quantity"], v["title"])
        for v in body["variants"]
    ] == [("MUG-S", 1250, {"Size": "S"}, 0, ""), ("MUG-L", 1450, {}, 0, "Large")]
    # and customers see it in the public API
    assert client.get("/api/v1/products/enamel-mug").status_code == 200


@pytest.mark.story("US-17")
def test_an_archived_product_leaves_the_storefront_and_comes_back_when_published(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    product = ProductFactory(title="Teapot")
    headers = bearer(staff_user)

    archived = client.post(f"{STAFF}/products/{product.id}/archive", headers=headers)
    hidden = client.get("/api/v1/products/teapot")
    published = client.post(f"{STAFF}/products/{product.id}/publish", headers=headers)

    assert (archived.status_code, archived.get_json()["status"]) == (200, "archived")
    problem(hidden, 404, "product_not_found")
    assert (published.status_code, published.get_json()["status"]) == (200, "active")
    assert client.get("/api/v1/products/teapot").status_code == 200


@pytest.mark.story("US-17")
def test_staff_rename_a_product_and_change_a_variant(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    product = ProductFactory(title="Old name", variants=[{"sku": "OLD-1", "price": 1000}])
    variant = _variant_of(product)
    headers = bearer(staff_user)

    renamed = client.patch(
        f"{STAFF}/products/{product.id}",
        json={"title": "New name", "is_featured": True},
        headers=headers,
    )
    changed = client.patch(
        f"{STAFF}/variants/{variant.id}",
        json={
            "sku": "new-1",
            "price": {"amount": 800, "currency": "usd"},
            "options": {"size": "M"},
        },
        headers=headers,
    )

    assert (renamed.status_code, changed.status_code) == (200, 200)
    assert (renamed.get_json()["slug"], renamed.get_json()["is_featured"]) == ("new-name", True)
    assert changed.get_json() == {
        "id": variant.id,
        "product_id": product.id,
        "sku": "NEW-1",
        "title": "",
        "price": {"amount": 800, "currency": "USD"},
        "options": {"Size": "M"},
        "stock_quantity": 5,
        "position": 0,
    }
    stored = db.session.get(Product, product.id)
    assert (stored.title, stored.min_price_amount) == ("New name", 800)


@pytest.mark.story("US-17", "US-29")
def test_the_catalogue_api_cannot_set_stock(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    product = ProductFactory(variants=[{"sku": "STOCK-1", "stock_quantity": 5}])
    variant = _variant_of(product)
    before = catalogue_state()

    patched = client.patch(
        f"{STAFF}/variants/{variant.id}", json={"stock_quantity": 500}, headers=bearer(staff_user)
    )
    added = client.post(
        f"{STAFF}/products/{product.id}/variants",
        json={"sku": "STOCK-2", "price": {"amount": 1, "currency": "USD"}, "stock_quantity": 9},
        headers=bearer(staff_user),
    )

    assert list(problem(patched, 422, "validation_failed")["fields"]) == ["stock_quantity"]
    assert list(problem(added, 422, "validation_failed")["fields"]) == ["stock_quantity"]
    assert catalogue_state() == before


@pytest.mark.story("US-17", "US-44")
@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"category_id": 1}, 422, "validation_failed", "title"),
        ({"title": " ", "category_id": 0}, 422, "validation_failed", "category_id"),
        ({"title": "x" * 201, "category_id": 1}, 422, "validation_failed", "title"),
        ({"title": " ", "category_id": "CATEGORY"}, 422, "invalid_catalog_input", "title"),
        ({"title": "Mug", "category_id": 999999}, 404, "category_not_found", None),
        ({"title": "Mug\u0000", "category_id": "CATEGORY"}, 422, "validation_failed", "title"),
        ({"title": "Mug", "category_id": "CATEGORY", "description": "é" * 10_001}, 422,
         "validation_failed", "description"),
        ({"title": "Mug", "category_id": "CATEGORY",
          "variants": [{"sku": "A", "price": {"amount": 1, "currency": "USD"},
                        "options": {"ß" * 50: "x"}}]}, 422, "invalid_catalog_input",
         "option name"),
        ({"title": "Mug", "category_id": "CATEGORY", "publish": True}, 422,
         "product_has_no_variants", None),
        ({"title": "Mug", "category_id": "CATEGORY",
          "variants": [{"sku": "A", "price": {"amount": 1, "currency": "EUR"}}]}, 422,
         "invalid_price", "price"),
        ({"title": "Mug", "category_id": "CATEGORY",
          "variants": [{"sku": "A", "price": {"amount": -1, "currency": "USD"}}]}, 422,
         "validation_failed", "variants.0.price.amount"),
        ({"title": "Mug", "category_id": "CATEGORY",
          "variants": [{"sku": "A B", "price": {"amount": 1, "currency": "USD"}}]}, 422,
         "validation_failed", "variants.0.sku"),  # the document's pattern says it too
        ({"title": "Mug", "category_id": "CATEGORY",
          "variants": [{"sku": "TAKEN-1", "price": {"amount": 1, "currency": "USD"}}]}, 409,
         "duplicate_sku", "sku"),
        ({"title": "Mug", "category_id": "CATEGORY",
          "variants": [{"sku": "A", "price": {"amount": 1, "currency": "U$D"}}]}, 422,
         "validation_failed", "variants.0.price.currency"),
    ],
)  # fmt: skip
def test_a_refused_product_is_a_problem_and_creates_nothing(
    client: FlaskClient,
    bearer: Bearer,
    staff_user: User,
    body: dict[str, Any],
    status: int,
    code: str,
    field: str | None,
) -> None:
    # given a category and a product whose variant holds the SKU TAKEN-1
    existing = ProductFactory(variants=[{"sku": "TAKEN-1"}])
    body = {**body}
    if body.get("category_id") == "CATEGORY":
        body["category_id"] = existing.category_id
    before = catalogue_state()

    response = client.post(f"{STAFF}/products", json=body, headers=bearer(staff_user))

    fields = problem(response, status, code).get("fields", {})
    if field is not None:
        assert list(fields) == [field]
    assert catalogue_state() == before


@pytest.mark.story("US-17", "US-44")
@pytest.mark.parametrize(
    "path",
    [
        f"{STAFF}/products/999999",
        f"{STAFF}/products/99999999999",
        f"{STAFF}/products/-1",
        f"{STAFF}/products/0",
        f"{STAFF}/products/2147483648",
    ],
)
def test_an_unknown_product_is_404_for_every_method(
    client: FlaskClient, bearer: Bearer, staff_user: User, path: str
) -> None:
    headers = bearer(staff_user)

    read = client.get(path, headers=headers)
    change = client.patch(path, json={"title": "New"}, headers=headers)

    assert (read.status_code, change.status_code) == (404, 404)
    assert (read.mimetype, change.mimetype) == ("application/problem+json",) * 2


# --- stock ----------------------------------------------------------------------------------


def _stock_calls(variant: Variant) -> dict[str, tuple[str, str, Any, int]]:
    return {
        "get": ("GET", f"{STAFF}/variants/{variant.id}/stock", None, 200),
        "adjust": (
            "POST",
            f"{STAFF}/variants/{variant.id}/stock-adjustments",
            {"delta": 3, "reason": "received"},
            201,
        ),
    }


@pytest.mark.story("US-29", "US-28")
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", ["get", "adjust"])
def test_stock_operations_need_the_inventory_permission(
    client: FlaskClient, bearer: Bearer, role: str, operation: str
) -> None:
    variant = stocked_variant(4)
    method, path, body, success = _stock_calls(variant)[operation]
    headers = headers_for(role, bearer)
    before = stock_state()

    response = client.open(path, method=method, json=body, headers=headers)

    if role == "anonymous":
        problem(response, 401, "authentication_required")
    elif role == "customer":
        problem(response, 403, "permission_denied")
    else:
        assert response.status_code == success, response.get_data(as_text=True)
    if role in {"anonymous", "customer"}:
        assert stock_state() == before


@pytest.mark.story("US-29")
def test_staff_receive_and_count_stock_and_the_ledger_says_why(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    # given a variant with 4 units, 1 of them reserved by a checkout
    variant = stocked_variant(4)
    StockReservationFactory(variant_id=variant.id, quantity=1)
    headers = bearer(staff_user)
    url = f"{STAFF}/variants/{variant.id}/stock-adjustments"

    received = client.post(
        url, json={"delta": 6, "reason": "received", "note": "PO 17"}, headers=headers
    )
    counted = client.post(url, json={"new_level": 8, "reason": "counted"}, headers=headers)
    stock = client.get(f"{STAFF}/variants/{variant.id}/stock?limit=2", headers=headers)

    assert (received.status_code, counted.status_code, stock.status_code) == (201, 201, 200)
    first = received.get_json()
    assert {key: first[key] for key in ("on_hand", "reserved", "available")} == {
        "on_hand": 10,
        "reserved": 1,
        "available": 9,
    }
    assert (first["movement"]["quantity"], first["movement"]["reason"]) == (6, "received")
    assert (first["movement"]["actor_user_id"], first["movement"]["note"]) == (
        staff_user.id,
        "PO 17",
    )
    assert (counted.get_json()["on_hand"], counted.get_json()["movement"]["quantity"]) == (8, -2)
    assert [
        (m["reason"], m["quantity"], m["balance_after"]) for m in stock.get_json()["movements"]
    ] == [
        ("counted", -2, 8),
        ("received", 6, 10),
    ]
    assert inventory_queries.ledger_discrepancies() == []
    rows = db.session.execute(
        sa.select(StockMovement.reason, StockMovement.quantity).order_by(StockMovement.id)
    ).all()
    assert [(reason.value, quantity) for reason, quantity in rows] == [
        ("opening_balance", 4),
        ("received", 6),
        ("counted", -2),
    ]


@pytest.mark.story("US-29", "US-44")
@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"delta": -5, "reason": "damaged"}, 409, "out_of_stock", None),
        ({"delta": 2, "new_level": 3, "reason": "counted"}, 422, "invalid_stock_quantity", None),
        ({"reason": "counted"}, 422, "invalid_stock_quantity", None),
        ({"delta": 0, "reason": "counted"}, 422, "invalid_stock_quantity", "delta"),
        ({"new_level": -1, "reason": "counted"}, 422, "validation_failed", "new_level"),
        ({"delta": 10**10, "reason": "received"}, 422, "validation_failed", "delta"),
        ({"delta": "2", "reason": "received"}, 422, "validation_failed", "delta"),
        ({"delta": 1, "reason": "sale"}, 422, "validation_failed", "reason"),
        ({"delta": 1, "reason": "received", "note": "x" * 501}, 422, "validation_failed",
         "note"),
    ],
)  # fmt: skip
def test_a_refused_adjustment_is_a_problem_and_changes_nothing(
    client: FlaskClient,
    bearer: Bearer,
    staff_user: User,
    body: dict[str, Any],
    status: int,
    code: str,
    field: str | None,
) -> None:
    variant = stocked_variant(4)
    before = stock_state()

    response = client.post(
        f"{STAFF}/variants/{variant.id}/stock-adjustments", json=body, headers=bearer(staff_user)
    )

    fields = problem(response, status, code).get("fields", {})
    if field is not None:
        assert list(fields) == [field]
    assert stock_state() == before


@pytest.mark.story("US-29")
def test_adjusting_an_unknown_variant_is_404(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    response = client.post(
        f"{STAFF}/variants/999999/stock-adjustments",
        json={"delta": 1, "reason": "received"},
        headers=bearer(staff_user),
    )

    problem(response, 404, "variant_not_found")
    assert stock_state() == []


@pytest.mark.story("US-17")
def test_a_staff_patch_that_changes_nothing_is_refused(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    product = ProductFactory(variants=[{"sku": "SAME-1", "price": 1000}])
    variant = _variant_of(product)
    headers = bearer(staff_user)
    before = catalogue_state()

    answers = [
        client.patch(f"{STAFF}/products/{product.id}", json={}, headers=headers),
        client.patch(f"{STAFF}/variants/{variant.id}", json={}, headers=headers),
    ]

    for response in answers:
        assert problem(response, 422, "validation_failed")["fields"] == {
            "body": ["Send at least one field to change."]
        }
    assert catalogue_state() == before
