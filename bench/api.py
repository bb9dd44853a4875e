"""API throughput: each read operation of ``/api/v1`` under wrk, against a bare Flask app.

    python -m bench.api [--products 10000] [--seconds 10] [--connections 32]

Builds a scratch SQLite shop with the demo catalogue, serves it with gunicorn (2 sync workers,
as the bare app and the storefront benchmark), prepares what the operations read through the
API itself (a token for the demo customer, a guest cart of three lines), loads each operation
with wrk and writes the "API throughput" section of ``bench/results.md``. Rate limits are off
on the scratch shop, so that wrk measures the work and not the limiter's refusals; only reads
are loaded (a POST under wrk would measure a growing database; a product view counted in the
funnel does insert its event, as a storefront naming its shopper makes it do). Each operation's SQL
statements are then counted once in-process, which says where its time goes. Compare the
ratios to the bare app, not the raw numbers: they depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support.live_server import LiveServer

from bench.pages import (
    RESULTS,
    SERVED_AS,
    Measure,
    measure_ceiling,
    result_table,
    run_wrk,
    write_section,
)
from funnel.demo import DEMO_ACCOUNTS

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient

API = "/api/v1"
CART_LINES = 3


@dataclass(frozen=True)
class Operation:
    """One GET under load: its name in the table, path and the headers it needs."""

    name: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)


def call(
    base_url: str,
    method: str,
    path: str,
    body: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Any:
    """One JSON call to the API; an error status raises (the preparation must succeed)."""
    request = urllib.request.Request(  # noqa: S310 (the scratch shop on 127.0.0.1)
        base_url + API + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.load(response)


def prepare_operations(base_url: str, customer: tuple[str, str]) -> list[Operation]:
    """The operations to load, with real slugs, a search word, a token and a 3-line cart.

    Everything is obtained as a client would: the token from ``POST /auth/tokens`` with the
    demo customer's credentials, the cart from ``POST /carts`` and ``POST /carts/{id}/lines``.
    """
    email, password = customer
    token = call(
        base_url,
        "POST",
        "/auth/tokens",
        {"email": email, "password": password, "name": "benchmark"},
    )["token"]
    products = call(base_url, "GET", "/products")["items"]
    top_category = call(base_url, "GET", "/categories")["items"][0]["slug"]
    word = products[0]["title"].split()[0].lower()
    cart = call(base_url, "POST", "/carts")
    secret = {"Cart-Secret": cart["secret"]}
    for product in products:
        if len(cart["lines"]) == CART_LINES:
            break
        variants = call(base_url, "GET", f"/products/{product['slug']}")["variants"]
        in_stock = [variant["id"] for variant in variants if variant["in_stock"]]
        if in_stock:
            line = {"variant_id": in_stock[0], "quantity": 1}
            cart = call(base_url, "POST", f"/carts/{cart['id']}/lines", line, secret)
    if len(cart["lines"]) != CART_LINES:
        raise RuntimeError(f"the first page has fewer than {CART_LINES} products in stock")
    return [
        Operation("products, first page", f"{API}/products"),
        Operation("products, search", f"{API}/products?q={word}"),
        Operation("products, top category", f"{API}/products?category={top_category}"),
        Operation("product", f"{API}/products/{products[0]['slug']}"),
        Operation(
            "product, counted in the funnel (Funnel-Visitor)",
            f"{API}/products/{products[0]['slug']}",
            {"Funnel-Visitor": "benchmark-visitor-0001"},
        ),
        Operation("categories", f"{API}/categories"),
        Operation(
            f"guest cart, {CART_LINES} lines (Cart-Secret)", f"{API}/carts/{cart['id']}", secret
        ),
        Operation("me (bearer token)", f"{API}/me", {"Authorization": f"Bearer {token}"}),
        Operation("OpenAPI description", f"{API}/openapi.json"),
    ]


@contextmanager
def shop_environment(environment: Mapping[str, str]) -> Iterator[None]:
    """This process's environment set to the scratch shop's (``create_app`` reads it)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environment)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def client_with_cookies(
    app: Flask, headers: Mapping[str, str]
) -> tuple[FlaskClient, dict[str, str]]:
    """A new test client holding the cookies of ``headers``, and the other headers: the client
    sends the cookies it holds in place of any ``Cookie`` header it is given."""
    client = app.test_client()
    others = dict(headers)
    for pair in others.pop("Cookie", "").split(";"):
        name, _, value = pair.strip().partition("=")
        if name:
            client.set_cookie(name, value)
    return client, others


def count_statements(environment: Mapping[str, str], operations: list[Operation]) -> list[int]:
    """SQL statements each operation runs, counted once in-process on the scratch database.

    The first call of each warms the caches a worker keeps (the OpenAPI description, the
    category tree when cached); the second is counted, as wrk sees a warm worker. Pages are
    rendered, not served as kept (US-75: a kept page runs none).
    """
    from sqlalchemy import event

    from funnel import create_app
    from funnel.analytics.batches import write_batch
    from funnel.extensions import db

    with shop_environment({**environment, "FUNNEL_PAGE_CACHE_SECONDS": "0"}):
        app = create_app()
    counts: list[int] = []
    with app.app_context():
        engine = db.engine
        statements: list[str] = []

        def record(*arguments: Any) -> None:
            statements.append(arguments[2])

        event.listen(engine, "before_cursor_execute", record)
        try:
            for operation in operations:
                client, headers = client_with_cookies(app, operation.headers)
                client.get(operation.path, headers=headers)
                statements.clear()
                response = client.get(operation.path, headers=headers)
                if response.status_code != 200:
                    raise RuntimeError(f"{operation.path} answered {response.status_code}")
                counts.append(len(statements))
        finally:
            event.remove(engine, "before_cursor_execute", record)
        # Product views kept for a batch are written now, while their database still exists.
        write_batch(app)
        db.engine.dispose()
    return counts


def write_results(
    products: int,
    ceiling: Measure,
    measures: list[Measure],
    statements: list[int],
    args: str,
    minutes: float,
    load: float,
) -> None:
    table = result_table("operation", ceiling, measures, ("SQL statements", statements))
    write_section(
        [
            "# API throughput",
            "",
            f"`python -m bench.api {args}`: the JSON API's read operations, measured as the",
            f"storefront is above: SQLite, {products} demo products, gunicorn with 2 sync workers,",
            "wrk with 2 threads; the ratio compares each with the same bare Flask app. Rate limits",
            "are off (`FUNNEL_RATELIMIT_ENABLED=false`); the token and the guest cart were made",
            "through the API, and wrk sends them as the `Authorization` and `Cart-Secret` headers.",
            "SQL statements: the queries one request of a warm worker runs, counted in-process",
            "(besides the connection pool's ping, BEGIN and ROLLBACK).",
            f"The run took {minutes:.1f} minutes (load average {load:.2f} when it began).",
            "",
            *table,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: make bench installs it")

    started, load = time.monotonic(), os.getloadavg()[0]
    customer = next(
        (email, password) for email, password, role in DEMO_ACCOUNTS if role == "CUSTOMER"
    )
    with tempfile.TemporaryDirectory(prefix="funnel-bench-api-") as scratch:
        ceiling = measure_ceiling(options.seconds, options.connections)
        shop = LiveServer(
            Path(scratch),
            demo_products=options.products,
            workers=2,
            settings={**SERVED_AS, "FUNNEL_RATELIMIT_ENABLED": "false"},
        )
        shop.start()
        try:
            operations = prepare_operations(shop.base_url, customer)
            measures = [
                Measure(
                    operation.name,
                    operation.path,
                    *run_wrk(
                        shop.base_url + operation.path,
                        options.seconds,
                        options.connections,
                        operation.headers,
                    ),
                )
                for operation in operations
            ]
        finally:
            shop.stop()
        statements = count_statements(shop.environment, operations)
    minutes = (time.monotonic() - started) / 60
    args = f"--products {options.products} --seconds {options.seconds}"
    write_results(options.products, ceiling, measures, statements, args, minutes, load)
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
