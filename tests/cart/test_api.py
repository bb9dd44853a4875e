"""Carts over the API: guest carts with a secret, the account's cart with a bearer token, lines
with the storefront's stock and sellability rules, and who may reach which cart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from funnel.accounts.models import Role, User
from funnel.catalog import services as catalog
from funnel.catalog.models import ProductStatus
from funnel.inventory import services as inventory
from tests.factories.accounts import UserFactory
from tests.factories.cart import cart_with
from tests.factories.catalog import ProductFactory
from tests.factories.inventory import stocked_variant
from tests.support.api import problem
from tests.support.api_carts import (
    CARTS,
    cart_rows,
    catalog_variants,
    expected_line,
    guest_cart,
    line_rows,
    secret_header,
    usd,
)

Bearer = Callable[..., dict[str, str]]


def empty_cart(cart_id: int) -> dict[str, Any]:
    return {"id": cart_id, "lines": [], "subtotal": usd(0), "item_count": 0, "has_problems": False}


# --- creating a cart ------------------------------------------------------------------------


@pytest.mark.story("US-43")
def test_an_anonymous_caller_gets_a_new_guest_cart_and_its_secret(client: FlaskClient) -> None:
    response = client.post(CARTS)

    assert response.status_code == 201
    [(cart_id, user_id, token)] = cart_rows()
    assert user_id is None
    assert response.get_json() == {**empty_cart(cart_id), "secret": token}
    assert client.get(f"{CARTS}/{cart_id}", headers=secret_header(token)).status_code == 200


def test_each_anonymous_call_makes_another_guest_cart(client: FlaskClient) -> None:
    first, _ = guest_cart(client)
    second, _ = guest_cart(client)

    assert first != second
    assert [row[:2] for row in cart_rows()] == [(first, None), (second, None)]


@pytest.mark.story("US-43")
def test_a_bearer_caller_gets_the_account_cart_made_once_then_returned(
    client: FlaskClient, customer: User, bearer: Bearer
) -> None:
    headers = bearer(customer)

    created = client.post(CARTS, headers=headers)
    again = client.post(CARTS, headers=headers)

    [(cart_id, user_id, _token)] = cart_rows()
    assert user_id == customer.id
    assert created.status_code == 201
    assert created.get_json() == {**empty_cart(cart_id), "secret": None}
    assert again.status_code == 200
    assert again.get_json() == {**empty_cart(cart_id), "secret": None}


def test_a_bearer_caller_gets_the_cart_the_storefront_filled(
    client: FlaskClient, customer: User, bearer: Bearer
) -> None:
    variant = stocked_variant(5)
    cart = cart_with({variant: 2}, user=customer)
    [(line_id, *_)] = line_rows()

    response = client.post(CARTS, headers=bearer(customer))

    assert response.status_code == 200
    assert response.get_json() == {
        "id": cart.id,
        "lines": [expected_line(line_id, variant, 2, available=5)],
        "subtotal": usd(2 * variant.price_amount),
        "item_count": 2,
        "has_problems": False,
        "secret": None,
    }
    assert [row[:2] for row in cart_rows()] == [(cart.id, customer.id)]


def test_a_bad_bearer_token_is_a_401_not_a_guest_cart(client: FlaskClient) -> None:
    response = client.post(CARTS, headers={"Authorization": "Bearer fnl_not-a-token"})

    problem(response, 401, "token_invalid_or_expired")
    assert cart_rows() == []


# --- reading and changing lines -------------------------------------------------------------


@pytest.mark.story("US-43")
def test_a_guest_adds_reads_changes_and_removes_lines(client: FlaskClient) -> None:
    shirt = ProductFactory(
        title="Shirt",
        variants=[
            {"sku": "SHIRT-M-RED", "price": 2500, "stock_quantity": 6,
             "options": {"Size": "M", "Colour": "Red"}},
        ],
    )  # fmt: skip
    [shirt_variant] = catalog_variants(shirt.id)
    mug = stocked_variant(3)
    cart_id, headers = guest_cart(client)
    url = f"{CARTS}/{cart_id}"

    added = client.post(f"{url}/lines", json={"variant_id": shirt_variant.id, "quantity": 2},
                        headers=headers)  # fmt: skip
    client.post(f"{url}/lines", json={"variant_id": mug.id, "quantity": 1}, headers=headers)
    grown = client.post(f"{url}/lines", json={"variant_id": shirt_variant.id, "quantity": 1},
                        headers=headers)  # fmt: skip
    [(shirt_line, *_), (mug_line, *_)] = line_rows()
    changed = client.patch(f"{url}/lines/{mug_line}", json={"quantity": 3}, headers=headers)
    removed = client.delete(f"{url}/lines/{shirt_line}", headers=headers)
    read = client.get(url, headers=headers)

    assert added.status_code == 201
    assert added.get_json() == {
        "id": cart_id,
        "lines": [expected_line(shirt_line, shirt_variant, 2, available=6, label="M / Red")],
        "subtotal": usd(5000),
        "item_count": 2,
        "has_problems": False,
    }
    assert grown.status_code == 201
    assert [line["quantity"] for line in grown.get_json()["lines"]] == [3, 1]
    assert grown.get_json()["subtotal"] == usd(3 * 2500 + mug.price_amount)
    assert changed.status_code == 200
    assert [line["quantity"] for line in changed.get_json()["lines"]] == [3, 3]
    assert removed.status_code == 200
    assert removed.get_json() == read.get_json()
    assert read.get_json() == {
        "id": cart_id,
        "lines": [expected_line(mug_line, mug, 3, available=3)],
        "subtotal": usd(3 * mug.price_amount),
        "item_count": 3,
        "has_problems": False,
    }
    assert line_rows() == [(mug_line, cart_id, mug.id, 3)]


@pytest.mark.story("US-43")
def test_adding_more_than_is_left_is_refused_with_the_quantity_left(client: FlaskClient) -> None:
    variant = stocked_variant(3)
    cart_id, headers = guest_cart(client)
    url = f"{CARTS}/{cart_id}/lines"
    client.post(url, json={"variant_id": variant.id, "quantity": 2}, headers=headers)
    before = line_rows()

    response = client.post(url, json={"variant_id": variant.id, "quantity": 2}, headers=headers)

    body = problem(response, 422, "insufficient_stock")
    assert body["available"] == 3
    assert body["detail"] == (
        "Only 3 left and your cart already holds 2: you can add up to 1 more."
    )
    assert body["fields"] == {"quantity": [body["detail"]]}
    assert line_rows() == before


@pytest.mark.story("US-43")
def test_a_sold_out_variant_cannot_be_added(client: FlaskClient) -> None:
    variant = stocked_variant(0)
    cart_id, headers = guest_cart(client)

    response = client.post(f"{CARTS}/{cart_id}/lines", json={"variant_id": variant.id,
                           "quantity": 1}, headers=headers)  # fmt: skip

    body = problem(response, 422, "insufficient_stock")
    assert (body["available"], body["detail"]) == (0, "This item is out of stock.")
    assert line_rows() == []


def test_a_product_no_longer_sold_cannot_be_added(client: FlaskClient) -> None:
    draft = ProductFactory(status=ProductStatus.DRAFT)
    [variant] = catalog_variants(draft.id)
    cart_id, headers = guest_cart(client)

    response = client.post(f"{CARTS}/{cart_id}/lines", json={"variant_id": variant.id,
                           "quantity": 1}, headers=headers)  # fmt: skip

    problem(response, 422, "product_unavailable")
    assert line_rows() == []


@pytest.mark.parametrize("variant_id", [999_999, 0, -1, 2**31, 10**30])
def test_an_unknown_variant_is_a_404(client: FlaskClient, variant_id: int) -> None:
    cart_id, headers = guest_cart(client)

    response = client.post(f"{CARTS}/{cart_id}/lines", json={"variant_id": variant_id,
                           "quantity": 1}, headers=headers)  # fmt: skip

    problem(response, 404, "variant_not_found")
    assert line_rows() == []


@pytest.mark.parametrize(
    "body",
    [
        {"quantity": 0},
        {"quantity": -1},
        {"quantity": 1_000_001},
        {"quantity": 10**30},
        {"quantity": "2"},
        {"quantity": 1.5},
        {"quantity": True},
        {"quantity": None},
        {},
        {"quantity": 1, "price": 1},
    ],
)
def test_a_quantity_outside_1_to_the_maximum_is_a_422_on_adding_and_changing(
    client: FlaskClient, body: dict[str, Any]
) -> None:
    variant = stocked_variant(5)
    cart_id, headers = guest_cart(client)
    client.post(f"{CARTS}/{cart_id}/lines", json={"variant_id": variant.id, "quantity": 1},
                headers=headers)  # fmt: skip
    before = line_rows()
    [(line_id, *_)] = before

    added = client.post(f"{CARTS}/{cart_id}/lines", json={"variant_id": variant.id, **body},
                        headers=headers)  # fmt: skip
    changed = client.patch(f"{CARTS}/{cart_id}/lines/{line_id}", json=body, headers=headers)

    expected_fields = {"price"} if "price" in body else {"quantity"}
    assert set(problem(added, 422, "validation_failed")["fields"]) == expected_fields
    assert set(problem(changed, 422, "validation_failed")["fields"]) == expected_fields
    assert line_rows() == before


def test_a_line_cannot_be_raised_above_what_is_available(client: FlaskClient) -> None:
    variant = stocked_variant(4)
    cart_id, headers = guest_cart(client)
    client.post(f"{CARTS}/{cart_id}/lines", json={"variant_id": variant.id, "quantity": 1},
                headers=headers)  # fmt: skip
    before = line_rows()
    [(line_id, *_)] = before

    response = client.patch(f"{CARTS}/{cart_id}/lines/{line_id}", json={"quantity": 5},
                            headers=headers)  # fmt: skip

    body = problem(response, 422, "insufficient_stock")
    assert body["available"] == 4
    assert line_rows() == before


def test_a_line_that_sold_out_since_is_flagged_when_the_cart_is_read(
    client: FlaskClient,
) -> None:
    variant = stocked_variant(2)
    cart_id, headers = guest_cart(client)
    client.post(f"{CARTS}/{cart_id}/lines", json={"variant_id": variant.id, "quantity": 2},
                headers=headers)  # fmt: skip
    [(line_id, *_)] = line_rows()
    inventory.reserve("another-checkout", {variant.id: 2})

    response = client.get(f"{CARTS}/{cart_id}", headers=headers)

    assert response.get_json() == {
        "id": cart_id,
        "lines": [
            expected_line(line_id, variant, 2, available=0,
                          problem="Out of stock — please remove it")
        ],
        "subtotal": usd(2 * variant.price_amount),
        "item_count": 2,
        "has_problems": True,
    }  # fmt: skip


def test_a_line_whose_product_was_withdrawn_may_be_lowered_but_not_raised(
    client: FlaskClient,
) -> None:
    variant = stocked_variant(5)
    cart_id, headers = guest_cart(client)
    client.post(f"{CARTS}/{cart_id}/lines", json={"variant_id": variant.id, "quantity": 3},
                headers=headers)  # fmt: skip
    [(line_id, *_)] = line_rows()
    catalog.update_product(variant.product_id, status=ProductStatus.ARCHIVED)
    url = f"{CARTS}/{cart_id}/lines/{line_id}"

    raised = client.patch(url, json={"quantity": 4}, headers=headers)
    lowered = client.patch(url, json={"quantity": 1}, headers=headers)

    problem(raised, 422, "product_unavailable")
    assert lowered.status_code == 200
    assert lowered.get_json()["lines"] == [
        expected_line(line_id, variant, 1, available=5, problem="No longer available")
    ]
    assert lowered.get_json()["has_problems"] is True
    assert line_rows() == [(line_id, cart_id, variant.id, 1)]


def test_another_carts_line_is_not_found_in_this_cart(client: FlaskClient) -> None:
    variant = stocked_variant(5)
    other_id, other_headers = guest_cart(client)
    client.post(f"{CARTS}/{other_id}/lines", json={"variant_id": variant.id, "quantity": 1},
                headers=other_headers)  # fmt: skip
    [(other_line, *_)] = line_rows()
    cart_id, headers = guest_cart(client)
    url = f"{CARTS}/{cart_id}/lines/{other_line}"

    changed = client.patch(url, json={"quantity": 2}, headers=headers)
    removed = client.delete(url, headers=headers)

    problem(changed, 404, "cart_line_not_found")
    problem(removed, 404, "cart_line_not_found")
    assert line_rows() == [(other_line, other_id, variant.id, 1)]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"{CARTS}/99999999999999999999"),
        ("get", f"{CARTS}/-1"),
        ("get", f"{CARTS}/abc"),
        ("post", f"{CARTS}/2147483648/lines"),
        ("patch", f"{CARTS}/1/lines/99999999999999999999"),
        # One rule per method on this path: Werkzeug answered 405 here before the id converter.
        ("delete", f"{CARTS}/1/lines/99999999999"),
        ("delete", "/api/v1/me/addresses/2147483648"),
    ],
)
def test_ids_out_of_range_in_the_url_are_a_404(client: FlaskClient, method: str, path: str) -> None:
    response = getattr(client, method)(path, json={"variant_id": 1, "quantity": 1})

    problem(response, 404, "not_found")


# --- the storefront and the API share an account's cart --------------------------------------


@pytest.mark.story("US-43")
def test_the_storefront_and_the_api_see_the_same_account_cart(
    client: FlaskClient, customer: User, bearer: Bearer, signed_in: Any
) -> None:
    browser = signed_in(customer)
    shirt, mug = stocked_variant(5), stocked_variant(5)
    headers = bearer(customer)
    page_add = browser.post("/cart/lines", data={"variant_id": shirt.id, "quantity": "2"})
    cart_id = client.post(CARTS, headers=headers).get_json()["id"]

    api_add = client.post(f"{CARTS}/{cart_id}/lines", json={"variant_id": mug.id, "quantity": 1},
                          headers=headers)  # fmt: skip
    page = browser.get("/cart").get_data(as_text=True)

    assert page_add.status_code == 303
    assert api_add.status_code == 201
    assert [(line["variant_id"], line["quantity"]) for line in api_add.get_json()["lines"]] == [
        (shirt.id, 2),
        (mug.id, 1),
    ]
    assert f'variant={shirt.id}"' in page
    assert f'variant={mug.id}"' in page
    assert [row[:2] for row in cart_rows()] == [(cart_id, customer.id)]


# --- who may reach a cart ---------------------------------------------------------------------

OPERATIONS = [
    ("get", "", None),
    ("post", "/lines", {"quantity": 1}),
    ("patch", "/lines/{line}", {"quantity": 2}),
    ("delete", "/lines/{line}", None),
]
CALLERS = [
    "anonymous",
    "guest secret",
    "wrong secret",
    "owner",
    "other customer",
    "staff",
    "admin",
    "expired token",
]


@pytest.mark.story("US-43")
@pytest.mark.parametrize(("method", "suffix", "body"), OPERATIONS)
@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("kind", ["guest cart", "account cart"])
def test_cart_authorisation_matrix(
    client: FlaskClient,
    customer: User,
    bearer: Bearer,
    kind: str,
    caller: str,
    method: str,
    suffix: str,
    body: dict[str, int] | None,
) -> None:
    variant = stocked_variant(5)
    cart = cart_with({variant: 1}, user=customer if kind == "account cart" else None)
    [(line_id, *_)] = line_rows()
    before = (cart_rows(), line_rows())
    callers = {
        "anonymous": {},
        # The cart's own token: for an account's cart it opens nothing.
        "guest secret": secret_header(cart.token),
        "wrong secret": secret_header(cart.token[:-1] + ("A" if cart.token[-1] != "A" else "B")),
        "owner": bearer(customer),
        "other customer": bearer(UserFactory()),
        "staff": bearer(UserFactory(role=Role.STAFF)),
        "admin": bearer(UserFactory(role=Role.ADMIN)),
        "expired token": {**bearer(customer, days=-1), **secret_header(cart.token)},
    }
    if body is not None and suffix == "/lines":
        body = {**body, "variant_id": variant.id}
    url = f"{CARTS}/{cart.id}" + suffix.format(line=line_id)

    response = getattr(client, method)(url, json=body, headers=callers[caller])

    allowed = "guest secret" if kind == "guest cart" else "owner"
    if caller == allowed:
        assert response.status_code == (201 if suffix == "/lines" else 200)
        assert response.get_json()["id"] == cart.id
        return
    if caller == "expired token":
        problem(response, 401, "token_invalid_or_expired")
    elif caller == "anonymous":
        problem(response, 401, "authentication_required")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    elif caller in {"wrong secret", "guest secret"}:  # a secret alone that opens nothing
        problem(response, 401, "cart_secret_invalid")
    else:
        problem(response, 404, "cart_not_found")
    assert (cart_rows(), line_rows()) == before


@pytest.mark.parametrize(
    "secret", ["x" * 65, "é" * 43, " ", "' OR 1=1 --"], ids=["long", "non-ascii", "blank", "sql"]
)
def test_a_malformed_secret_is_refused(client: FlaskClient, secret: str) -> None:
    cart_id, _ = guest_cart(client)

    response = client.get(f"{CARTS}/{cart_id}", headers={"Cart-Secret": secret})

    if secret.strip():
        problem(response, 401, "cart_secret_invalid")
    else:  # a blank secret is no credential at all
        problem(response, 401, "authentication_required")


def test_a_guest_secret_opens_only_its_own_cart(client: FlaskClient) -> None:
    first, first_headers = guest_cart(client)
    second, _ = guest_cart(client)

    response = client.get(f"{CARTS}/{second}", headers=first_headers)
    unknown = client.get(f"{CARTS}/999999", headers=first_headers)
    own = client.get(f"{CARTS}/{first}", headers=first_headers)

    problem(response, 401, "cart_secret_invalid")
    problem(unknown, 401, "cart_secret_invalid")  # the same answer: ids cannot be probed
    assert own.get_json() == empty_cart(first)


def test_an_unknown_cart_is_the_same_404_as_someone_elses(
    client: FlaskClient, customer: User, bearer: Bearer
) -> None:
    response = client.get(f"{CARTS}/999999", headers=bearer(customer))

    problem(response, 404, "cart_not_found")


def test_a_guest_secret_opens_its_cart_for_a_caller_with_a_token_too(
    client: FlaskClient, customer: User, bearer: Bearer
) -> None:
    variant = stocked_variant(5)
    cart_id, headers = guest_cart(client)

    response = client.post(f"{CARTS}/{cart_id}/lines", json={"variant_id": variant.id,
                           "quantity": 1}, headers={**headers, **bearer(customer)})  # fmt: skip

    assert response.status_code == 201
    assert [row[1:] for row in line_rows()] == [(cart_id, variant.id, 1)]
    assert [row[:2] for row in cart_rows()] == [(cart_id, None)]  # still a guest cart


def test_a_whole_number_written_with_a_decimal_point_is_a_quantity(client: FlaskClient) -> None:
    # JSON Schema counts 2.0 as an integer (schemathesis sends it); 2.5 was cut to 2 by a
    # lenient integer field elsewhere, which must never happen to a quantity or an amount.
    variant = stocked_variant(5)
    cart_id, headers = guest_cart(client)

    whole = client.post(f"{CARTS}/{cart_id}/lines", json={"variant_id": float(variant.id),
                        "quantity": 2.0}, headers=headers)  # fmt: skip
    fraction = client.post(f"{CARTS}/{cart_id}/lines", json={"variant_id": variant.id,
                           "quantity": 2.5}, headers=headers)  # fmt: skip

    assert whole.status_code == 201, whole.get_data(as_text=True)
    assert whole.get_json()["item_count"] == 2
    assert list(problem(fraction, 422, "validation_failed")["fields"]) == ["quantity"]
    assert [row[3] for row in line_rows()] == [2]
