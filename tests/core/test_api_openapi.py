"""The OpenAPI 3.1 document is complete (every /api/v1 route) and sound; /api/docs is offline."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel.core.http import CONTENT_SECURITY_POLICY
from tests.support.static import static_path

METHODS = {"get", "post", "put", "patch", "delete"}


def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def operations_of(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every operation of the document, with its path."""
    return [
        (path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs(value)]
    return []


@pytest.mark.story("US-41")
@pytest.mark.backends("sqlite")
def test_the_document_is_openapi_3_1_with_its_security_schemes(client: FlaskClient) -> None:
    spec = document(client)

    assert spec["openapi"] == "3.1.0"
    assert (spec["info"]["title"], spec["info"]["version"]) == ("Funnel", "v1")
    assert spec["servers"] == [{"url": "/", "description": "This shop"}]
    assert spec["components"]["securitySchemes"] == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from POST /auth/tokens",
        },
        "cartSecret": {
            "type": "apiKey",
            "in": "header",
            "name": "Cart-Secret",
            "description": "A guest cart's secret, returned once by POST /carts",
        },
    }


@pytest.mark.story("US-41")
@pytest.mark.backends("sqlite")
def test_every_api_route_is_in_the_document_and_nothing_else(
    app: Flask, client: FlaskClient
) -> None:
    spec = document(client)
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api_docs.openapi_document":
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            routes |= {(path, method.lower()) for method in rule.methods or ()} & {
                (path, method) for method in METHODS
            }

    documented = {
        (path, method)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in METHODS
    }
    assert documented == routes
    assert {
        ("/api/v1/auth/tokens", "post"),
        ("/api/v1/products", "get"),
        ("/api/v1/carts/{cart_id}/lines", "post"),
        ("/api/v1/checkouts/{checkout_id}/complete", "post"),
        ("/api/v1/orders/{number}", "get"),
        ("/api/v1/staff/orders/{number}/refunds", "post"),
    } <= documented


@pytest.mark.story("US-44")
@pytest.mark.backends("sqlite")
def test_every_operation_documents_its_errors_as_problems(client: FlaskClient) -> None:
    spec = document(client)

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), (path, method)
            assert responses["default"] == {"$ref": "#/components/responses/DEFAULT_ERROR"}
            is_protected = operation.get("security") == [{"bearerAuth": []}]
            if is_protected:
                assert "401" in responses, (path, method)
            if "{" in path:
                assert "404" in responses, (path, method)
            if "requestBody" in operation or operation.get("parameters"):
                assert "422" in responses, (path, method)
    for name, response in spec["components"]["responses"].items():
        assert set(response["content"]) == {"application/problem+json"}, name
        assert response["content"]["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"
        }


@pytest.mark.backends("sqlite")
def test_every_reference_in_the_document_resolves(client: FlaskClient) -> None:
    spec = document(client)

    for ref in set(refs(spec)):
        assert ref.startswith("#/"), ref
        node: Any = spec
        for part in ref[2:].split("/"):
            node = node[part]
        assert isinstance(node, dict), ref


@pytest.mark.story("US-41")
@pytest.mark.backends("sqlite")
def test_the_reference_page_uses_local_assets_only(client: FlaskClient) -> None:
    response = client.get("/api/docs")

    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    page = response.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets == [
        static_path("favicon.svg"),
        static_path("vendor/swagger-ui/swagger-ui.css"),
        static_path("vendor/swagger-ui/swagger-ui-bundle.js"),
        static_path("js/api-docs.js"),
    ]
    assert "<script>" not in page  # no inline script: the CSP allows none
    assert 'data-spec-url="/api/v1/openapi.json"' in page
    for asset in assets:
        fetched = client.get(asset)
        assert fetched.status_code == 200, asset
        fetched.close()


@pytest.mark.story("US-41")
@pytest.mark.backends("sqlite")
def test_every_operation_has_a_unique_operation_id_a_tag_and_a_summary(
    client: FlaskClient,
) -> None:
    spec = document(client)
    operations = [operation for _, operation in operations_of(spec)]
    ids = [operation.get("operationId") for operation in operations]
    tags = {tag["name"] for tag in spec["tags"]}

    assert None not in ids
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[a-z][a-z_]*", operation_id) for operation_id in ids)
    assert {"Accounts", "Catalog", "Carts", "Checkout", "Orders", "Staff"} <= tags
    assert all(
        len(operation["tags"]) == 1 and operation["tags"][0] in tags for operation in operations
    )
    assert all(operation.get("summary") for operation in operations)


def _schema_at(spec: dict[str, Any], schema: dict[str, Any], pointer: str) -> dict[str, Any]:
    """The schema a JSON pointer into a response body reaches (``/lines/0/id``)."""
    for step in pointer.strip("/").split("/"):
        while "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        schema = schema["items"] if step.isdigit() else schema["properties"][step]
    return schema


@pytest.mark.story("US-41")
@pytest.mark.backends("sqlite")
def test_every_link_opens_an_operation_with_values_the_response_holds(
    client: FlaskClient,
) -> None:
    # given the document's operations by operationId, and every link of every response
    spec = document(client)
    paths = {operation["operationId"]: path for path, operation in operations_of(spec)}
    operations = {operation["operationId"]: operation for _, operation in operations_of(spec)}
    found = [
        (name, link, response)
        for _, operation in operations_of(spec)
        for response in operation["responses"].values()
        for name, link in response.get("links", {}).items()
    ]

    # then each names a real operation, fills exactly its path parameters, from whole numbers
    # the response's schema holds (every id in a path is one)
    assert len(found) == 24
    for name, link, response in found:
        target = operations[link["operationId"]]
        path_parameters = {
            parameter["name"]
            for parameter in target.get("parameters", [])
            if parameter.get("in") == "path"
        }
        path_parameters |= set(re.findall(r"{(\w+)}", paths[link["operationId"]]))
        assert set(link["parameters"]) == path_parameters, name
        body = response["content"]["application/json"]["schema"]
        for expression in link["parameters"].values():
            assert expression.startswith("$response.body#/"), name
            reached = _schema_at(spec, body, expression.removeprefix("$response.body#"))
            assert reached["type"] == "integer", (name, expression)


@pytest.mark.story("US-41")
@pytest.mark.backends("sqlite")
def test_every_patch_body_needs_a_field_to_change(client: FlaskClient) -> None:
    spec = document(client)
    schemas = spec["components"]["schemas"]

    patches = {
        path: operation["requestBody"]
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method == "patch"
    }

    assert set(patches) == {
        "/api/v1/me/addresses/{address_id}",
        "/api/v1/carts/{cart_id}/lines/{line_id}",
        "/api/v1/staff/products/{product_id}",
        "/api/v1/staff/variants/{variant_id}",
        "/api/v1/staff/categories/{category_id}",
        "/api/v1/staff/products/{product_id}/images/{image_id}",
    }
    for path, body in patches.items():
        assert body["required"] is True, path
        reference = body["content"]["application/json"]["schema"]["$ref"]
        schema = schemas[reference.rsplit("/", 1)[-1]]
        assert schema["minProperties"] == 1, path
