"""A demo shop's past: funnel events and paid orders over the last days, for the reports.

``load_demo_history(events=..., orders=..., days=...)`` writes exactly ``events`` funnel events
and ``orders`` paid orders (with their lines, their card payments and, for some, a refund a few
days later), spread over the ``days`` before now, deterministically: the same numbers on an
empty database give the same history. It is realistic where the reports look:

- most visitors leave: a visit, perhaps a few product views (popular products more often), a
  few add to cart, fewer check out, try to pay and pay; some visitors come back on other days;
- more visits and orders at the weekend and in the evening than on a Monday morning;
- each paying journey is the visitor of one of the orders (its ``visitor_id``, at the instant
  it was paid); the orders beyond the paying journeys were placed by shoppers the funnel did not
  count (through the API, or who asked not to be tracked), as in a real shop.

Bulk-inserted in chunks (the orders' rules are not exercised: use the checkout for that); the
stock is left alone. Loading it twice adds nothing the second time.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import sqlalchemy as sa
from tqdm import tqdm

from funnel.analytics import summaries
from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.catalog.models import Product, Variant
from funnel.core import clock
from funnel.extensions import db
from funnel.orders.models import Order, OrderLine, OrderStatus
from funnel.orders.numbers import ALPHABET, PREFIX
from funnel.payments.models import (
    Payment,
    PaymentStatus,
    PaymentTransaction,
    TransactionKind,
    TransactionStatus,
)
from funnel.settings import queries as settings_queries

SEED = 20_261_206
CHUNK = 5_000
# Monday to Sunday: the weekend sells more.
WEEKDAY_WEIGHTS = (0.85, 0.9, 0.95, 1.0, 1.1, 1.35, 1.25)
# Midnight to 23:00 UTC: quiet nights, busy evenings.
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 5, 6, 7, 6, 6, 6, 7, 8, 9, 10, 10, 8, 5, 2)
# The share of each stage's visitors who reach the next one.
GOES_ON = {
    FunnelStage.VISIT: 0.65,
    FunnelStage.PRODUCT_VIEW: 0.15,
    FunnelStage.ADD_TO_CART: 0.55,
    FunnelStage.CHECKOUT_STARTED: 0.8,
    FunnelStage.PAYMENT_ATTEMPTED: 0.85,
}
RETURNING_SHARE = 0.3
REFUNDED_SHARE = 0.03


@dataclass
class Journey:
    """One visitor's day: the stages reached, in order, each at its instant."""

    visitor: str
    events: list[tuple[FunnelStage, datetime, int | None]] = field(default_factory=list)

    @property
    def paid_at(self) -> datetime | None:
        last_stage, at, _product = self.events[-1]
        return at if last_stage == FunnelStage.ORDER_PAID else None


class History:
    """The deterministic draws: days, instants, visitors, products, order numbers."""

    def __init__(self, now: datetime, days: int, products: list[int]) -> None:
        self.rng = random.Random(SEED)
        self.now = now
        self.first_day = (now - timedelta(days=days - 1)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        self.day_list = [self.first_day + timedelta(days=offset) for offset in range(days)]
        self.day_weights = [WEEKDAY_WEIGHTS[day.weekday()] for day in self.day_list]
        self.products = products
        # Popular products first: a product's weight falls with its rank (a long tail).
        self.product_weights = [1 / (rank + 1) for rank in range(len(products))]
        self.visitors: list[str] = []
        self.numbers: set[str] = set()

    def instant(self) -> datetime:
        """A moment of the history, weighted by weekday and hour; never after now."""
        day = self.rng.choices(self.day_list, self.day_weights)[0]
        hour = self.rng.choices(range(24), HOUR_WEIGHTS)[0]
        moment = day + timedelta(hours=hour, seconds=self.rng.randrange(3600))
        return min(moment, self.now - timedelta(seconds=self.rng.randrange(1, 3600)))

    def visitor(self) -> str:
        if self.visitors and self.rng.random() < RETURNING_SHARE:
            return self.rng.choice(self.visitors)
        visitor = f"demo-{self.rng.getrandbits(64):016x}"
        self.visitors.append(visitor)
        return visitor

    def product(self) -> int:
        return self.rng.choices(self.products, self.product_weights)[0]

    def order_number(self) -> str:
        while True:
            number = PREFIX + "".join(self.rng.choice(ALPHABET) for _ in range(8))
            if number not in self.numbers:
                self.numbers.add(number)
                return number

    def journey(self) -> Journey:
        journey = Journey(self.visitor())
        at = self.instant()
        journey.events.append((FunnelStage.VISIT, at, None))
        for stage, following in pairwise(FunnelStage):
            if self.rng.random() >= GOES_ON[stage]:
                break
            at += timedelta(seconds=self.rng.randint(10, 300))
            if following == FunnelStage.PRODUCT_VIEW:
                for _ in range(self.rng.randint(1, 4)):
                    journey.events.append((following, at, self.product()))
                continue
            product = self.product() if following == FunnelStage.ADD_TO_CART else None
            journey.events.append((following, at, product))
        return journey


def journeys(history: History, events: int) -> Iterator[Journey]:
    """Journeys until exactly ``events`` events (the last one cut short if need be)."""
    left = events
    while left > 0:
        journey = history.journey()
        journey.events = journey.events[:left]
        left -= len(journey.events)
        yield journey


def _flush(table: type, rows: list[dict[str, Any]]) -> None:
    if rows:
        db.session.execute(sa.insert(table), rows)
        rows.clear()


def _variants() -> list[Any]:
    return list(
        db.session.execute(
            sa.select(
                Variant.id, Variant.product_id, Variant.sku, Variant.title, Variant.price_amount
            ).order_by(Variant.id)
        )
    )


def load_demo_history(
    *, events: int, orders: int, days: int = 365, currency: str, progress: bool = True
) -> tuple[int, int]:
    """Write ``events`` funnel events and ``orders`` paid orders over the last ``days``
    (see the module's docstring). Returns what was written: ``(events, orders)``, ``(0, 0)``
    when this history is there already. Raises LookupError when the catalogue is empty."""
    variants = _variants()
    if not variants:
        raise LookupError("The catalogue is empty: load the demo products first.")
    products = sorted({variant.product_id for variant in variants})
    history = History(clock.utcnow(), days, products)
    first_number = History(history.now, days, products).order_number()
    if db.session.scalar(sa.select(Order.id).where(Order.number == first_number)):
        return 0, 0
    titles = dict(db.session.execute(sa.select(Product.id, Product.title)).tuples().all())
    by_product: dict[int, list[Any]] = {}
    for variant in variants:
        by_product.setdefault(variant.product_id, []).append(variant)
    numbers = [history.order_number() for _ in range(orders)]
    paying: list[tuple[str, datetime]] = []
    rows: list[dict[str, Any]] = []
    with tqdm(total=events, unit="event", file=sys.stderr, disable=not progress) as bar:
        for journey in journeys(history, events):
            paid_at = journey.paid_at
            reference = None
            if paid_at is not None and len(paying) < orders:
                reference = numbers[len(paying)]
                paying.append((journey.visitor, paid_at))
            for stage, at, product in journey.events:
                rows.append(
                    {
                        "stage": stage,
                        "visitor_id": journey.visitor,
                        "product_id": product,
                        "order_reference": reference if stage == FunnelStage.ORDER_PAID else None,
                        "occurred_at": at,
                    }
                )
            if len(rows) >= CHUNK:
                bar.update(len(rows))
                _flush(FunnelEvent, rows)
                db.session.commit()
        bar.update(len(rows))
        _flush(FunnelEvent, rows)
        db.session.commit()
    _write_orders(history, numbers, paying, by_product, titles, currency, progress)
    # Events written into the past: the funnel's daily summary is built again over them.
    summaries.start_again()
    summaries.summarise(settings_queries.current_settings().time_zone)
    return events, orders


def _write_orders(
    history: History,
    numbers: list[str],
    paying: list[tuple[str, datetime]],
    by_product: dict[int, list[Any]],
    titles: dict[int, str],
    currency: str,
    progress: bool,
) -> None:
    rng = history.rng
    first_order = (db.session.scalar(sa.select(sa.func.max(Order.id))) or 0) + 1
    first_payment = (db.session.scalar(sa.select(sa.func.max(Payment.id))) or 0) + 1
    tables: dict[type, list[dict[str, Any]]] = {
        Order: [],
        OrderLine: [],
        Payment: [],
        PaymentTransaction: [],
    }
    with tqdm(total=len(numbers), unit="order", file=sys.stderr, disable=not progress) as bar:
        for offset, number in enumerate(numbers):
            visitor, paid_at = paying[offset] if offset < len(paying) else (None, None)
            paid_at = paid_at or history.instant()
            order_id, payment_id = first_order + offset, first_payment + offset
            lines = []
            for product in {history.product() for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))}:
                variant = rng.choice(by_product[product])
                quantity = rng.choice((1, 1, 1, 2))
                lines.append(
                    {
                        "order_id": order_id,
                        "variant_id": variant.id,
                        "sku": variant.sku,
                        "product_title": titles[product],
                        "variant_label": variant.title or "Standard",
                        "unit_price_minor": variant.price_amount,
                        "quantity": quantity,
                        "line_total_minor": variant.price_amount * quantity,
                    }
                )
            subtotal = sum(line["line_total_minor"] for line in lines)
            shipping = 0 if subtotal >= 5000 else 495
            tax = subtotal // 5
            total = subtotal + shipping + tax
            fulfilled, delivered, refunded = _later_steps(history, paid_at)
            tables[Order].append(
                {
                    "id": order_id,
                    "number": number,
                    "email": f"shopper-{rng.randrange(20_000)}@example.com",
                    "status": _status(fulfilled, delivered, refunded),
                    "currency": currency,
                    "subtotal_minor": subtotal,
                    "shipping_minor": shipping,
                    "tax_minor": tax,
                    "total_minor": total,
                    "tax_rate_basis_points": 2000,
                    "shipping_method_code": "standard",
                    "shipping_method_name": "Standard delivery",
                    "ship_full_name": "Demo Shopper",
                    "ship_line1": f"{rng.randint(1, 300)} High Street",
                    "ship_city": "Bristol",
                    "ship_postal_code": "BS1 4DJ",
                    "ship_country_code": "GB",
                    "payment_gateway": "test",
                    "visitor_id": visitor,
                    "placed_at": paid_at - timedelta(seconds=20),
                    "paid_at": paid_at,
                    "fulfilled_at": fulfilled,
                    "delivered_at": delivered,
                    "refunded_at": refunded,
                }
            )
            tables[OrderLine].extend(lines)
            tables[Payment].append(
                {
                    "id": payment_id,
                    "public_id": f"pay_demo_{number}",
                    "payable_reference": number,
                    "active_payable_reference": number,
                    "gateway": "test",
                    "idempotency_key": f"demo:{number}",
                    "amount_minor": total,
                    "currency": currency,
                    "status": PaymentStatus.REFUNDED if refunded else PaymentStatus.SUCCEEDED,
                    "received_minor": total,
                    "refunded_minor": total if refunded else 0,
                    "created_at": paid_at - timedelta(seconds=20),
                    "updated_at": paid_at,
                }
            )
            if refunded is not None:
                tables[PaymentTransaction].append(
                    {
                        "payment_id": payment_id,
                        "kind": TransactionKind.REFUND,
                        "status": TransactionStatus.SUCCEEDED,
                        "amount_minor": total,
                        "currency": currency,
                        "idempotency_key": f"demo:{number}:refund",
                        "reason": "Returned",
                        "created_at": refunded,
                        "updated_at": refunded,
                    }
                )
            if len(tables[Order]) >= CHUNK:
                bar.update(len(tables[Order]))
                _write_tables(tables)
        bar.update(len(tables[Order]))
        _write_tables(tables)


def _later_steps(
    history: History, paid_at: datetime
) -> tuple[datetime | None, datetime | None, datetime | None]:
    """When the order was shipped, delivered and (for a few) refunded: each step a while after
    the one before, and none after now."""
    fulfilled = paid_at + timedelta(days=1)
    delivered = paid_at + timedelta(days=3)
    refunded = delivered + timedelta(days=2) if history.rng.random() < REFUNDED_SHARE else None
    steps = [
        step if step is not None and step <= history.now else None
        for step in (fulfilled, delivered, refunded)
    ]
    return steps[0], steps[1], steps[2]


def _status(
    fulfilled: datetime | None, delivered: datetime | None, refunded: datetime | None
) -> OrderStatus:
    if refunded is not None:
        return OrderStatus.REFUNDED
    if delivered is not None:
        return OrderStatus.DELIVERED
    return OrderStatus.FULFILLED if fulfilled is not None else OrderStatus.PAID


def _write_tables(tables: dict[type, list[dict[str, Any]]]) -> None:
    for table, rows in tables.items():
        _flush(table, rows)
    db.session.commit()
