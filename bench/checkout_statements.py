"""SQL statements of an add to cart and of a whole API guest checkout, counted in-process.

Each is run twice through the app's test client on the benchmark's database; the second run
is counted, as a warm worker serves it (caches filled, the pool's connection open).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from bench.buyers import ADDRESS, CARD


@contextmanager
def statements_of(app: Flask) -> Iterator[list[str]]:
    """Every statement the app's engine sends while the block runs."""
    from funnel.extensions import db

    statements: list[str] = []

    def record(*arguments: Any) -> None:
        statements.append(arguments[2])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def warm_count(app: Flask, run: Callable[[FlaskClient], None]) -> int:
    """Statements of ``run``'s second call (the first warms the worker's caches)."""
    client = app.test_client()
    run(client)
    with statements_of(app) as statements:
        run(client)
    return len(statements)


def _ok(response: Any, status: int) -> Any:
    if response.status_code != status:
        raise RuntimeError(f"answered {response.status_code}: {response.get_data(as_text=True)}")
    return response.get_json(silent=True)


def api_purchase(client: FlaskClient, variant_id: int) -> None:
    """The four calls of a guest's whole API checkout of one unit."""
    cart = _ok(client.post("/api/v1/carts"), 201)
    secret = {"Cart-Secret": cart["secret"]}
    line = {"variant_id": variant_id, "quantity": 1}
    _ok(client.post(f"/api/v1/carts/{cart['id']}/lines", json=line, headers=secret), 201)
    body = {
        "cart_id": cart["id"],
        "email": "buyer@example.com",
        "shipping_method": "standard",
        "shipping_address": ADDRESS,
    }
    checkout = _ok(client.post("/api/v1/checkouts", json=body, headers=secret), 201)
    payment = {"payment_method": "test", "expected_total": checkout["total"], "card": CARD}
    keyed = secret | {"Idempotency-Key": str(uuid.uuid4())}
    path = f"/api/v1/checkouts/{checkout['id']}/complete"
    answer = _ok(client.post(path, json=payment, headers=keyed), 200)
    if answer["outcome"] != "paid":
        raise RuntimeError(f"the checkout was not paid: {answer}")


def count_add_statements(app: Flask, variant_id: int, slug: str) -> dict[str, int]:
    """Statements of one add to cart through the form and through the API (a cart made)."""
    form_client = app.test_client()
    page = form_client.get(f"/p/{slug}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"csrf_token": token, "variant_id": str(variant_id), "quantity": "1"}
    _ok(form_client.post("/cart/lines", data=form), 303)
    _ok(form_client.post("/cart/lines", data=form), 303)
    with statements_of(app) as statements:
        _ok(form_client.post("/cart/lines", data=form), 303)
    counts = {"form": len(statements)}

    api_client = app.test_client()
    cart = _ok(api_client.post("/api/v1/carts"), 201)
    secret = {"Cart-Secret": cart["secret"]}
    path = f"/api/v1/carts/{cart['id']}/lines"
    line = {"variant_id": variant_id, "quantity": 1}
    _ok(api_client.post(path, json=line, headers=secret), 201)
    with statements_of(app) as statements:
        _ok(api_client.post(path, json=line, headers=secret), 201)
    counts["api"] = len(statements)
    return counts


def count_checkout_statements(app: Flask, variant_id: int) -> int:
    """Statements of a whole API guest checkout (cart, line, checkout, payment)."""
    return warm_count(app, lambda client: api_purchase(client, variant_id))
