"""The staff operations in the OpenAPI document: each names its permission, its bearer
security, its 401 and 403 answers, a summary and a description; refunds need a key."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

METHODS = {"get", "post", "patch", "put", "delete"}
EXPECTED = {
    ("post", "/products"): "catalog.manage",
    ("get", "/products/{product_id}"): "catalog.manage",
    ("patch", "/products/{product_id}"): "catalog.manage",
    ("post", "/products/{product_id}/archive"): "catalog.manage",
    ("post", "/products/{product_id}/publish"): "catalog.manage",
    ("post", "/products/{product_id}/variants"): "catalog.manage",
    ("patch", "/variants/{variant_id}"): "catalog.manage",
    ("get", "/categories"): "catalog.manage",
    ("post", "/categories"): "catalog.manage",
    ("patch", "/categories/{category_id}"): "catalog.manage",
    ("post", "/categories/{category_id}/move"): "catalog.manage",
    ("delete", "/categories/{category_id}"): "catalog.manage",
    ("post", "/products/{product_id}/images"): "catalog.manage",
    ("patch", "/products/{product_id}/images/{image_id}"): "catalog.manage",
    ("post", "/products/{product_id}/images/{image_id}/move"): "catalog.manage",
    ("delete", "/products/{product_id}/images/{image_id}"): "catalog.manage",
    ("get", "/variants/{variant_id}/stock"): "inventory.adjust",
    ("post", "/variants/{variant_id}/stock-adjustments"): "inventory.adjust",
    ("get", "/orders"): "orders.view",
    ("get", "/orders/{number}"): "orders.view",
    ("post", "/orders/{number}/transitions"): "orders.fulfil",
    ("post", "/orders/{number}/refunds"): "orders.refund",
    ("post", "/orders/{number}/shipments"): "orders.fulfil",
    ("get", "/customers"): "customers.view",
    ("get", "/customers/{user_id}"): "customers.view",
    ("post", "/customers/{user_id}/disable"): "customers.manage",
    ("post", "/customers/{user_id}/enable"): "customers.manage",
    ("post", "/customers/{user_id}/password-reset"): "customers.manage",
    ("post", "/customers/{user_id}/verification-email"): "customers.manage",
    ("get", "/failed-payments"): "orders.view",
    ("get", "/reconciliation-findings"): "orders.refund",
    ("get", "/audit"): "audit.view",
    ("get", "/reports/funnel"): "reports.view",
    ("get", "/reports/funnel/days"): "reports.view",
    ("get", "/reports/sales"): "reports.view",
    ("get", "/reports/payment-methods"): "reports.view",
    ("get", "/reports/products"): "reports.view",
    ("get", "/reports/product-funnel"): "reports.view",
    ("get", "/feedback"): "reports.view",
    ("post", "/feedback/{feedback_id}/handled"): "reports.view",
    ("get", "/returns"): "orders.view",
    ("get", "/returns/{number}"): "orders.view",
    ("post", "/returns/{number}/transitions"): "orders.fulfil",
}


@pytest.mark.story("US-28", "US-44")
@pytest.mark.backends("sqlite")
def test_every_staff_operation_documents_its_permission_and_errors(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    prefix = "/api/v1/staff"

    operations = {
        (method, path.removeprefix(prefix)): operation
        for path, item in spec["paths"].items()
        if path.startswith(prefix + "/")
        for method, operation in item.items()
        if method in METHODS
    }

    assert {key: op["x-permission"] for key, op in operations.items()} == EXPECTED
    for operation in operations.values():
        assert operation["security"] == [{"bearerAuth": []}]
        assert {"401", "403"} <= set(operation["responses"])
        assert operation["summary"].strip() != ""
        assert operation["description"].strip() != ""
    ids = [operation["operationId"] for operation in operations.values()]
    assert len(set(ids)) == len(ids) == len(EXPECTED)
    for keyed in ("refunds", "shipments"):
        operation = operations[("post", f"/orders/{{number}}/{keyed}")]
        [header] = [p for p in operation["parameters"] if p["in"] == "header"]
        assert (header["name"], header["required"]) == ("Idempotency-Key", True)
