"""Every API error is an RFC 9457 problem with a stable code; bad input is never a 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel.accounts.models import User
from tests.factories.inventory import stocked_variant
from tests.support.api import problem

Bearer = Callable[..., dict[str, str]]


@pytest.mark.story("US-44")
def test_an_unknown_api_path_is_a_404_problem(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")

    problem(response, 404, "not_found")


@pytest.mark.story("US-44")
def test_a_wrong_method_is_a_405_problem_with_allow(client: FlaskClient) -> None:
    response = client.put("/api/v1/categories")

    problem(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.story("US-44")
def test_malformed_json_is_a_400_problem(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/auth/tokens", data=b'{"email": ', content_type="application/json"
    )

    body = problem(response, 400, "malformed_request")
    assert body["fields"] == {"body": ["Invalid JSON body."]}


@pytest.mark.story("US-44")
@pytest.mark.parametrize(
    "body", [b"[]", b'"text"', b"12", b"null", b'{"email": {"a": 1}, "password": 1e999}']
)
def test_json_of_the_wrong_shape_is_a_422_problem_listing_fields(
    client: FlaskClient, body: bytes
) -> None:
    response = client.post("/api/v1/auth/tokens", data=body, content_type="application/json")

    fields = problem(response, 422, "validation_failed")["fields"]
    assert isinstance(fields, dict)
    assert all(isinstance(messages, list) for messages in fields.values())


@pytest.mark.story("US-44")
@pytest.mark.config(API_MAX_CONTENT_LENGTH=1024)
def test_an_oversized_body_is_a_413_problem(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/auth/register",
        json={"email": "big@example.com", "password": "x" * 2000},
    )

    problem(response, 413, "request_entity_too_large")


@pytest.mark.story("US-44")
def test_a_customer_token_on_a_protected_operation_is_not_a_500_for_junk_ids(
    client: FlaskClient, customer: User, bearer: Bearer
) -> None:
    response = client.delete("/api/v1/auth/tokens/2147483648", headers=bearer(customer))

    problem(response, 404, "not_found")


@pytest.mark.story("US-44")
@pytest.mark.backends("sqlite")
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.sampled_from(["email", "password", "name", "x"]), children)
        ),
        max_leaves=8,
    )
)
def test_no_json_body_makes_token_creation_fail_with_a_500(
    client: FlaskClient, body: object
) -> None:
    response = client.post("/api/v1/auth/tokens", json=body)

    assert response.status_code in {400, 401, 422}
    assert response.mimetype == "application/problem+json"


@pytest.mark.story("US-44")
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    parameters=st.dictionaries(
        st.sampled_from(["q", "category", "min_price", "max_price", "sort", "limit", "cursor",
                         "size", "colour"]),
        st.text(max_size=30),
        max_size=4,
    )
)  # fmt: skip
def test_no_query_string_makes_the_product_list_fail_with_a_500(
    client: FlaskClient, parameters: dict[str, str]
) -> None:
    response = client.get("/api/v1/products", query_string=parameters)

    assert response.status_code in {200, 422}
    if response.status_code == 422:
        assert response.mimetype == "application/problem+json"


@pytest.mark.story("US-44")
def test_text_with_a_lone_surrogate_escape_is_a_400_not_a_500(
    client: FlaskClient, admin_user: User, bearer: Bearer
) -> None:
    variant = stocked_variant(1)
    headers = bearer(admin_user) | {"Content-Type": "application/json"}
    url = f"/api/v1/staff/variants/{variant.id}"

    # Found by schemathesis: an option name with a lone surrogate was a 500 (the database
    # cannot encode it).
    lone = client.patch(url, data='{"options": {"\\udaa2 size": "M"}}', headers=headers)
    in_a_value = client.patch(url, data='{"title": "Blue \\ud800"}', headers=headers)
    paired = client.patch(url, data='{"title": "Blue \\ud83d\\ude00"}', headers=headers)

    problem(lone, 400, "bad_request")
    problem(in_a_value, 400, "bad_request")
    assert paired.status_code == 200, paired.get_data(as_text=True)
