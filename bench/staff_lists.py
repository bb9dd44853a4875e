"""Staff lists (US-39 and the back office): how long each list of ``/staff/`` takes to answer.

    python -m bench.staff_lists [--products 10000] [--orders 100000] [--customers 5000] [--runs 20]

Builds a scratch SQLite shop (migrated) with the demo catalogue of ``--products`` products,
``--customers`` customer accounts and ``--orders`` orders of one to three lines spread over
two years, in every status (bulk-inserted: the orders' rules are not what is measured), signs
in as the demo admin and times every staff list page in process, the first page and the
filters staff use most, ``--runs`` times each after one warm-up request. Writes its section
of ``bench/results.md``. The target: every list under 100 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bench.pages import write_section
from funnel import create_app
from funnel.accounts.models import Role, User
from funnel.catalog.models import Variant
from funnel.demo import DEMO_ACCOUNTS, create_demo_accounts, load_demo_catalogue
from funnel.extensions import db
from funnel.orders.models import Order, OrderLine, OrderStatus
from funnel.payments.models import Payment, PaymentStatus

TARGET_MILLISECONDS = 100
CHUNK = 5_000
# Most orders of a running shop are delivered; some wait, some were cancelled or refunded.
STATUS_WEIGHTS = {
    OrderStatus.DELIVERED: 70,
    OrderStatus.FULFILLED: 8,
    OrderStatus.PAID: 8,
    OrderStatus.PENDING_PAYMENT: 4,
    OrderStatus.CANCELLED: 7,
    OrderStatus.REFUNDED: 3,
}
GATEWAYS = ("test", "test", "test", "manual", "cod")


def lists() -> dict[str, str]:
    """The staff list pages measured: name -> path."""
    return {
        "products, first page": "/staff/products",
        "products, search": "/staff/products?q=shirt",
        "products, active, by title": "/staff/products?status=active&sort=title",
        "orders, first page": "/staff/orders",
        "orders, paid (to ship)": "/staff/orders?status=paid",
        "orders, search by email": "/staff/orders?q=customer-42%40example.com",
        "orders, search by a part of a name": "/staff/orders?q=tomer%2042",
        "orders, one month": "/staff/orders?placed_from=2025-06-01&placed_to=2025-06-30",
        "orders, unshipped by bank transfer": (
            "/staff/orders?fulfilment=unshipped&payment_method=manual"
        ),
        "customers, first page": "/staff/customers",
        "customers, search": "/staff/customers?q=customer-42",
        "stock, first page": "/staff/stock",
        "stock, low only": "/staff/stock?low=1",
        "audit log": "/staff/audit",
        "failed payments": "/staff/failed-payments",
        "failed payments, page 50": "/staff/failed-payments?page=50",
        "categories": "/staff/categories",
    }


def add_customers(count: int) -> list[int]:
    """``count`` verified customer accounts (bulk: one password hash shared): their ids."""
    password_hash = db.session.scalar(sa.select(User.password_hash).limit(1))
    created = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [
        {
            "email": f"customer-{number}@example.com",
            "password_hash": password_hash,
            "role": Role.CUSTOMER,
            "is_email_verified": True,
            "created_at": created + timedelta(hours=number),
        }
        for number in range(count)
    ]
    for start in range(0, len(rows), CHUNK):
        db.session.execute(sa.insert(User), rows[start : start + CHUNK])
    db.session.commit()
    return list(db.session.scalars(sa.select(User.id).where(User.role == Role.CUSTOMER)))


def order_rows(
    count: int, customers: list[int], variants: list[Any]
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """``count`` orders with their lines, spread over two years, in every status."""
    rng = random.Random(20261205)
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for number in range(1, count + 1):
        placed = start + timedelta(minutes=number * 10)
        customer = rng.choice(customers)
        chosen = rng.sample(variants, rng.randint(1, 3))
        lines = []
        for variant in chosen:
            quantity = rng.randint(1, 2)
            lines.append(
                {
                    "variant_id": variant.id,
                    "sku": variant.sku,
                    "product_title": f"Product {variant.id}",
                    "variant_label": "",
                    "unit_price_minor": variant.price_amount,
                    "quantity": quantity,
                    "line_total_minor": variant.price_amount * quantity,
                }
            )
        subtotal = sum(line["line_total_minor"] for line in lines)
        tax = subtotal // 5
        status = rng.choices(statuses, weights)[0]
        is_paid = status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED)
        order = {
            "number": f"FN-{number:07d}",
            "email": f"customer-{customer % 5000}@example.com",
            "user_id": customer if number % 4 else None,
            "status": status,
            "currency": "USD",
            "subtotal_minor": subtotal,
            "shipping_minor": 500,
            "tax_minor": tax,
            "total_minor": subtotal + 500 + tax,
            "tax_rate_basis_points": 2000,
            "shipping_method_code": "standard",
            "shipping_method_name": "Standard",
            "ship_full_name": f"Customer {customer}",
            "ship_line1": f"{number % 300} High Street",
            "ship_city": "Bristol",
            "ship_postal_code": "BS1 4DJ",
            "ship_country_code": "GB",
            "payment_gateway": GATEWAYS[number % len(GATEWAYS)],
            "placed_at": placed,
            "paid_at": placed + timedelta(minutes=1) if is_paid else None,
            "cancelled_at": placed + timedelta(days=3) if status == OrderStatus.CANCELLED else None,
        }
        yield order, lines


def add_orders(count: int, customers: list[int]) -> None:
    """``count`` orders with one to three lines each, inserted in chunks."""
    variants = list(db.session.execute(sa.select(Variant.id, Variant.sku, Variant.price_amount)))
    first_id = (db.session.scalar(sa.select(sa.func.max(Order.id))) or 0) + 1
    orders: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for offset, (order, order_lines) in enumerate(order_rows(count, customers, variants)):
        order_id = first_id + offset
        orders.append(order | {"id": order_id})
        lines.extend(line | {"order_id": order_id} for line in order_lines)
        if len(orders) == CHUNK:
            _flush(orders, lines)
    _flush(orders, lines)


def _flush(orders: list[dict[str, Any]], lines: list[dict[str, Any]]) -> None:
    if orders:
        db.session.execute(sa.insert(Order), orders)
        db.session.execute(sa.insert(OrderLine), lines)
        db.session.execute(
            sa.insert(Payment), [row for order in orders for row in payments_of(order)]
        )
        db.session.commit()
    orders.clear()
    lines.clear()


def payments_of(order: dict[str, Any]) -> list[dict[str, Any]]:
    """An order's payment, and for one order in three a declined attempt of its checkout
    before it (a declined card places no order: it stays a payment of the checkout)."""
    number, placed = order["number"], order["placed_at"]
    paid = order["paid_at"] is not None
    rows = [
        {
            "public_id": f"pay_{number}",
            "payable_reference": number,
            "active_payable_reference": number if paid else None,
            "gateway": order["payment_gateway"],
            "idempotency_key": f"bench:{number}:2",
            "amount_minor": order["total_minor"],
            "currency": order["currency"],
            "status": PaymentStatus.SUCCEEDED if paid else PaymentStatus.CANCELLED,
            "created_at": placed,
            "updated_at": placed,
        }
    ]
    if order["id"] % 3 == 0:
        rows.append(
            rows[0]
            | {
                "public_id": f"pay_{number}_declined",
                "payable_reference": f"checkout:{order['id']}:1",
                "active_payable_reference": None,
                "gateway": "test",
                "idempotency_key": f"bench:{number}:1",
                "status": PaymentStatus.FAILED,
                "card_brand": "visa",
                "card_last4": "0002",
                "failure_message": "Your card was declined.",
                "created_at": placed - timedelta(minutes=1),
                "updated_at": placed - timedelta(minutes=1),
            }
        )
    return rows


def signed_in_admin(app: Flask) -> FlaskClient:
    """A client signed in as the demo admin, through the sign-in page."""
    client = app.test_client()
    email, password, _role = DEMO_ACCOUNTS[0]
    answer = client.post("/account/sign-in", data={"email": email, "password": password})
    assert answer.status_code == 302, answer.status_code
    return client


def measure(client: FlaskClient, path: str, runs: int) -> tuple[float, float, int]:
    """Median and slowest of ``runs`` answers to ``path`` after a warm-up, in ms; the status."""
    status = client.get(path).status_code
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        status = client.get(path).status_code
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), max(timings), status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=20)
    options = parser.parse_args()

    from flask_migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="funnel-bench-staff-") as scratch:
        app = create_app(
            {
                "FUNNEL_ENV": "test",
                "TESTING": True,
                "SECRET_KEY": "bench",
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(scratch) / 'funnel.db'}",
                "MEDIA_ROOT": str(Path(scratch) / "media"),
            }
        )
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory, revision="heads")
            started = time.perf_counter()
            load_demo_catalogue(options.products, progress=False)
            create_demo_accounts()
            add_orders(options.orders, add_customers(options.customers))
            seeded = time.perf_counter() - started
            db.session.remove()
        client = signed_in_admin(app)
        results = [
            (name, path, *measure(client, path, options.runs)) for name, path in lists().items()
        ]
    arguments = (
        f"--products {options.products} --orders {options.orders} "
        f"--customers {options.customers} --runs {options.runs}"
    )
    write_results(arguments, options.runs, seeded, results)
    print(Path(__file__).with_name("results.md").read_text())


def write_results(
    arguments: str, runs: int, seeded: float, results: list[tuple[str, str, float, float, int]]
) -> None:
    load = os.getloadavg()[0]
    lines = [
        "# Staff lists",
        "",
        f"`python -m bench.staff_lists {arguments}`: a scratch SQLite shop",
        f"(seeded in {seeded:.0f} s), the demo admin signed in, each list page answered {runs}",
        "times in process after one warm-up (no network, no server: the application's own time).",
        f"Target: every list under {TARGET_MILLISECONDS} ms. {os.cpu_count()} cores, load average",
        f"{load:.2f} at the end.",
        "",
        "| list | path | median ms | slowest ms | status | under target |",
        "| --- | --- | ---: | ---: | ---: | --- |",
        *[
            f"| {name} | `{path}` | {median:.1f} | {slowest:.1f} | {status} | "
            f"{'yes' if status == 200 and median < TARGET_MILLISECONDS else 'no'} |"
            for name, path, median, slowest, status in results
        ],
    ]
    write_section(lines)


if __name__ == "__main__":
    main()
