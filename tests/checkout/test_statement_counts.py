"""The SQL statements of an add to cart (form and API) and of a whole API guest checkout, counted.

Not a timing: a count, so that a change that adds a reload, a query per line or a lazy load
to these hot paths shows here (and ``bench/checkout.py`` says what it costs). Each is done once
first, so that what a worker caches (settings, the shipping methods) is warm, as in a shop
serving its customers. BEGIN, COMMIT and savepoints are not counted: the count is then the
same on every database.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.api_carts import CARTS, CHECKOUTS, card, checkout_body, guest_cart

# Statements of one API add to cart (the cart's access, the locked add, the cart answered).
ADD_TO_CART = 9
# Statements of one add through the product page's form: the cookie's cart, then the add
# (the cart locked and touched at once, the variant, its line, what is available, the line),
# and the funnel's add-to-cart event (written in its request here; batched in a shop).
ADD_TO_CART_FORM = 7
# Statements of a whole guest checkout: cart, line, checkout, payment with the test gateway.
WHOLE_CHECKOUT = 117


def purchase(client: FlaskClient, variant_id: int) -> None:
    """A guest's whole API checkout of one unit, paid."""
    cart_id, secret = guest_cart(client)
    line = {"variant_id": variant_id, "quantity": 1}
    assert client.post(f"{CARTS}/{cart_id}/lines", json=line, headers=secret).status_code == 201
    response = client.post(CHECKOUTS, json=checkout_body(cart_id), headers=secret)
    assert response.status_code == 201, response.get_json()
    payment = {
        "payment_method": "test",
        "expected_total": response.get_json()["total"],
        "card": card(),
    }
    keyed = secret | {"Idempotency-Key": f"count-{cart_id}"}
    path = f"{CHECKOUTS}/{response.get_json()['id']}/complete"
    answer = client.post(path, json=payment, headers=keyed)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["outcome"] == "paid"


@pytest.mark.story("US-43")
def test_an_api_add_to_cart_runs_a_fixed_number_of_statements(
    client: FlaskClient, mug: Any, sql_statements: list[str]
) -> None:
    # given a guest cart that holds one mug already
    cart_id, secret = guest_cart(client)
    line = {"variant_id": mug.id, "quantity": 1}
    assert client.post(f"{CARTS}/{cart_id}/lines", json=line, headers=secret).status_code == 201

    # when another mug is added
    sql_statements.clear()
    response = client.post(f"{CARTS}/{cart_id}/lines", json=line, headers=secret)

    # then it took the pinned count of statements, on every database
    assert response.status_code == 201
    assert response.get_json()["item_count"] == 2
    assert len(sql_statements) == ADD_TO_CART, sql_statements


@pytest.mark.story("US-43")
def test_a_form_add_to_cart_runs_a_fixed_number_of_statements(
    client: FlaskClient, mug: Any, sql_statements: list[str]
) -> None:
    # given a browser whose cart holds one mug already
    form = {"variant_id": str(mug.id), "quantity": "1"}
    assert client.post("/cart/lines", data=form).status_code == 303

    # when another mug is added through the product page's form
    sql_statements.clear()
    response = client.post("/cart/lines", data=form)

    # then it took the pinned count of statements, on every database, and the cart holds two
    assert response.status_code == 303
    assert len(sql_statements) == ADD_TO_CART_FORM, sql_statements
    assert "Blue mug was added to your cart." in client.get("/cart").get_data(as_text=True)


@pytest.mark.story("US-43")
def test_a_whole_api_guest_checkout_runs_a_fixed_number_of_statements(
    client: FlaskClient, mug: Any, sql_statements: list[str]
) -> None:
    # given a shop that has sold one mug already (its worker warm)
    mug_id = mug.id
    purchase(client, mug_id)

    # when a second guest buys one through the API
    sql_statements.clear()
    purchase(client, mug_id)

    # then the four calls took the pinned count of statements, on every database
    assert len(sql_statements) == WHOLE_CHECKOUT, sql_statements
