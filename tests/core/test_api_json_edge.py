"""The JSON edge: whatever document a client sends to an operation that takes a body, the
answer is a 4xx problem or a success, never a 500 (and never a logged traceback)."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from funnel.accounts.models import User
from funnel.core.api.bodies import MAX_JSON_DEPTH
from tests.support.api import problem

Bearer = Callable[..., dict[str, str]]


def body_operations(client: FlaskClient) -> list[tuple[str, str]]:
    """(method, path) of every operation the document says takes a body, its path parameters
    filled with a value each accepts (1 for ids)."""
    spec = client.get("/api/v1/openapi.json").get_json()
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation
    ]


def send(
    client: FlaskClient, method: str, path: str, body: bytes, headers: dict[str, str]
) -> TestResponse:
    return client.open(
        path,
        method=method,
        data=body,
        headers={
            **headers,
            "Content-Type": "application/json",
            "Idempotency-Key": str(uuid.uuid4()),
        },
    )


@pytest.mark.story("US-44")
@pytest.mark.backends("sqlite")
def test_the_document_lists_the_operations_that_take_a_body(client: FlaskClient) -> None:
    operations = body_operations(client)

    assert len(operations) == len(set(operations))
    assert {
        ("POST", "/api/v1/auth/tokens"),
        ("POST", "/api/v1/checkouts/1/complete"),
        ("PATCH", "/api/v1/staff/products/1"),
        ("PATCH", "/api/v1/staff/variants/1"),
        ("PATCH", "/api/v1/me/addresses/1"),
        ("POST", "/api/v1/staff/orders/1/refunds"),
    } <= set(operations)


@pytest.mark.story("US-44")
@pytest.mark.backends("sqlite")
@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("nested 1,000 deep", b"[" * 1000 + b"]" * 1000),
        ("objects nested 1,000 deep", b'{"a":' * 1000 + b"1" + b"}" * 1000),
        ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000),
        ("nested one level too deep", b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)),
        ("an integer of 4,301 digits", b'{"quantity": 1' + b"0" * 4300 + b"}"),
        ("an integer of 100,000 digits", b"[" + b"9" * 100_000 + b"]"),
    ],
)
def test_a_body_too_deep_or_a_number_too_long_is_a_400_problem_on_every_operation(
    client: FlaskClient,
    admin_user: User,
    bearer: Bearer,
    caplog: pytest.LogCaptureFixture,
    name: str,
    body: bytes,
) -> None:
    headers = bearer(admin_user)
    operations = body_operations(client)

    with caplog.at_level(logging.WARNING):
        answers = {
            (method, path): send(client, method, path, body, headers) for method, path in operations
        }

    for (method, path), response in answers.items():
        found = problem(response, 400, "malformed_request")
        assert found["fields"] == {"body": [found["detail"]]}, (method, path, name)
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []


@pytest.mark.story("US-44")
@pytest.mark.backends("sqlite")
def test_a_body_as_deep_as_allowed_reaches_the_operation(
    client: FlaskClient, admin_user: User, bearer: Bearer
) -> None:
    body = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    number = b'{"quantity": 1' + b"0" * 4299 + b"}"

    deep = send(client, "PATCH", "/api/v1/staff/products/1", body, bearer(admin_user))
    long = send(client, "POST", "/api/v1/auth/tokens", number, {})

    problem(deep, 422, "validation_failed")
    problem(long, 422, "validation_failed")


# --- the property: arbitrary JSON documents ---------------------------------------------------

_ODD_TEXT = st.lists(
    st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from(
        ["\x00", "\u202e", "\ufeff", "\U0001f600", "e\u0301", "\u0130", "\uffff", "'", '"', "\\"]
    ),
    max_size=12,
).map("".join)  # fmt: skip
_NUMBERS = (
    st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.sampled_from([2**31, 2**63, -(2**63) - 1, 10**4299, 0, -1])
    | st.floats(allow_nan=False, allow_infinity=False)
)
_SCALARS = st.none() | st.booleans() | _NUMBERS | _ODD_TEXT
_KEYS = st.sampled_from(
    ["email", "password", "quantity", "variant_id", "title", "sku", "price", "amount",
     "currency", "options", "cart_id", "shipping_address", "card", "to", "note", "reason",
     "status", "name", "line1", "country_code", "payment_method", "delta"]
) | _ODD_TEXT  # fmt: skip
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=5),
    max_leaves=12,
)


def _encode(document: Any, duplicate: str | None, deep: int) -> bytes:
    """The document as JSON text; ``duplicate`` repeats a key of a top object; ``deep`` wraps
    the document in that many arrays."""
    text = json.dumps(document, ensure_ascii=False, allow_nan=False)
    if duplicate is not None and text.startswith("{") and text != "{}":
        text = "{" + json.dumps(duplicate) + ": 1, " + text[1:]
    return ("[" * deep + text + "]" * deep).encode()


@pytest.mark.story("US-44")
@pytest.mark.backends("sqlite")
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    document=_DOCUMENTS,
    duplicate=st.none() | _KEYS,
    deep=st.sampled_from([0, 0, 0, 1, 40, 2000]),
)
def test_no_json_document_makes_any_operation_that_takes_a_body_fail_with_a_5xx(
    app: Flask,
    client: FlaskClient,
    admin_user: User,
    bearer: Bearer,
    document: Any,
    duplicate: str | None,
    deep: int,
) -> None:
    headers = app.extensions.setdefault("test.admin_bearer", bearer(admin_user))
    operations = app.extensions.setdefault("test.body_operations", body_operations(client))
    body = _encode(document, duplicate, deep)

    for method, path in operations:
        response = send(client, method, path, body, headers)

        assert response.status_code < 500, (method, path, body[:200], response.get_data()[:500])
        if response.status_code >= 400:
            assert response.mimetype == "application/problem+json", (method, path)
