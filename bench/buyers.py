"""The checkout benchmark's buyers: whole API guest checkouts from many threads at once.

Each buyer is a thread with its own keep-alive connection (``http.client``; gunicorn's sync
workers close it after each answer and it is opened again). One purchase is the four calls a
headless client makes: ``POST /carts``, ``POST /carts/{id}/lines``, ``POST /checkouts`` and
``POST /checkouts/{id}/complete`` with the test gateway's succeeding card. The driver runs on the
same cores as the shop, so the figures are a floor of what the shop alone would do.

The first purchase of every buyer also takes one unit of a scarce variant (a few units for
many buyers, all starting at once): a refusal for want of stock is counted apart from errors,
and ``oversold`` reads afterwards, from the database, whether more was sold than there was.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import func, select

API = "/api/v1"
CARD = {"number": "4242 4242 4242 4242", "expiry": "12/40", "cvc": "123"}
ADDRESS = {
    "full_name": "Ann Smith",
    "line1": "1 High Street",
    "city": "Bristol",
    "postal_code": "BS1 4DJ",
    "country_code": "GB",
}
# Answers that say the stock was not there: expected for the scarce variants, not errors.
REFUSED_FOR_STOCK = {
    "sold_out",
    "out_of_stock",
    "insufficient_stock",
    "cart_needs_attention",
    "reservation_limit_reached",
}


class Refused(Exception):
    """A call answered something other than success: its status and problem code."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code


@dataclass
class Outcomes:
    """What the buyers got, gathered from every thread (under ``lock``)."""

    paid: int = 0
    refused_for_stock: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    seconds_per_order: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Buyer:
    """One client: a connection to the shop and the calls of a purchase."""

    def __init__(self, base_url: str) -> None:
        address = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(address.hostname, address.port, timeout=120)

    def call(
        self, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> Any:
        """One JSON call; a non-2xx answer raises Refused with its problem code."""
        data = json.dumps(body) if body is not None else None
        sent = {"Content-Type": "application/json", **(headers or {})}
        try:
            self.connection.request(method, API + path, body=data, headers=sent)
            response = self.connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            raise
        if response.will_close:
            self.connection.close()
        answer = json.loads(payload) if payload else None
        if response.status >= 300:
            code = answer.get("code", "") if isinstance(answer, dict) else ""
            raise Refused(response.status, code or str(response.status))
        return answer

    def purchase(self, variant_ids: Sequence[int]) -> str:
        """One whole guest checkout of one unit of each variant; returns the outcome."""
        cart = self.call("POST", "/carts")
        secret = {"Cart-Secret": cart["secret"]}
        for variant_id in variant_ids:
            line = {"variant_id": variant_id, "quantity": 1}
            self.call("POST", f"/carts/{cart['id']}/lines", line, secret)
        body = {
            "cart_id": cart["id"],
            "email": "buyer@example.com",
            "shipping_method": "standard",
            "shipping_address": ADDRESS,
        }
        checkout = self.call("POST", "/checkouts", body, secret)
        payment = {"payment_method": "test", "expected_total": checkout["total"], "card": CARD}
        keyed = secret | {"Idempotency-Key": str(uuid.uuid4())}
        answer = self.call("POST", f"/checkouts/{checkout['id']}/complete", payment, keyed)
        return str(answer["outcome"])


def run_buyers(
    base_url: str,
    buyers: int,
    seconds: float,
    plentiful: Sequence[int],
    scarce: Sequence[int],
) -> tuple[Outcomes, float]:
    """``buyers`` threads buying for ``seconds``; returns the outcomes and the elapsed time.

    Buyer ``n`` buys one plentiful variant per purchase (turning through them); its first
    purchase also holds one unit of ``scarce[n % len(scarce)]``. All start at a barrier.
    """
    outcomes = Outcomes()
    barrier = threading.Barrier(buyers + 1)
    deadline: list[float] = []

    def buy(number: int) -> None:
        buyer = Buyer(base_url)
        barrier.wait()
        turn = number
        while time.monotonic() < deadline[0]:
            wanted = [plentiful[turn % len(plentiful)]]
            if turn == number and scarce:
                wanted.append(scarce[number % len(scarce)])
            turn += buyers
            started = time.monotonic()
            try:
                outcome = buyer.purchase(wanted)
            except Refused as refusal:
                with outcomes.lock:
                    if refusal.code in REFUSED_FOR_STOCK and len(wanted) > 1:
                        outcomes.refused_for_stock += 1
                    else:
                        outcomes.errors[f"{refusal.status} {refusal.code}"] += 1
                continue
            except (OSError, http.client.HTTPException) as error:
                with outcomes.lock:
                    outcomes.errors[type(error).__name__] += 1
                continue
            elapsed = time.monotonic() - started
            with outcomes.lock:
                if outcome == "paid":
                    outcomes.paid += 1
                    outcomes.seconds_per_order.append(elapsed)
                else:
                    outcomes.errors[f"outcome {outcome}"] += 1

    threads = [threading.Thread(target=buy, args=(number,)) for number in range(buyers)]
    for thread in threads:
        thread.start()
    deadline.append(time.monotonic() + seconds)
    started = time.monotonic()
    barrier.wait()
    for thread in threads:
        thread.join()
    return outcomes, time.monotonic() - started


@dataclass(frozen=True)
class StockCheck:
    """The scarce variants after the run: units there were, sold, and left."""

    stock_before: int
    sold: int
    left: int
    lowest_left: int

    @property
    def oversold(self) -> int:
        """Units sold beyond the stock there was (0 when the last units sold once)."""
        return max(0, self.sold - self.stock_before)

    @property
    def is_consistent(self) -> bool:
        """No level below zero, and what is left plus what was sold is what there was."""
        return self.lowest_left >= 0 and self.left + self.sold == self.stock_before


def check_stock(app: Flask, scarce: Sequence[int], units_each: int) -> StockCheck:
    """Read what the orders hold of the scarce variants and what their stock says now."""
    from funnel.catalog.models import Variant
    from funnel.extensions import db
    from funnel.orders.models import Order, OrderLine, OrderStatus

    with app.app_context():
        sold = db.session.scalar(
            select(func.coalesce(func.sum(OrderLine.quantity), 0))
            .join(Order, Order.id == OrderLine.order_id)
            .where(OrderLine.variant_id.in_(scarce), Order.status != OrderStatus.CANCELLED)
        )
        levels = list(
            db.session.scalars(select(Variant.stock_quantity).where(Variant.id.in_(scarce)))
        )
        db.session.remove()
    return StockCheck(units_each * len(scarce), int(sold or 0), sum(levels), min(levels))


def percentile(values: Sequence[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie (nearest rank); 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
