"""The OpenAPI document describes problems as the API sends them, extension members included."""

from __future__ import annotations

import sqlalchemy as sa
from flask.testing import FlaskClient

from funnel.catalog.models import Variant
from funnel.extensions import db
from tests.factories.catalog import ProductFactory


def test_a_problem_with_an_extension_member_is_one_the_document_allows(
    client: FlaskClient,
) -> None:
    # given a guest cart and a variant with no stock left
    ProductFactory(variants=[{"sku": "GONE-1", "price": 1200, "stock_quantity": 0}])
    variant_id = db.session.scalars(sa.select(Variant.id).where(Variant.sku == "GONE-1")).one()
    created = client.post("/api/v1/carts")
    headers = {"Cart-Secret": created.get_json()["secret"]}

    # when the caller adds one unit to the cart
    response = client.post(
        f"/api/v1/carts/{created.get_json()['id']}/lines",
        json={"variant_id": variant_id, "quantity": 1},
        headers=headers,
    )

    # then the problem carries the extension member `available`
    assert response.status_code == 422
    assert response.get_json()["available"] == 0
    # and the document's problem schema admits members beyond the ones it names
    problem = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Problem"]
    assert problem["additionalProperties"] is True
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}
