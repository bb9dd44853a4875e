"""Races on real connections: many threads, each with its own app context, session and
database connection, start together at a barrier and fight over the same units.

Every outcome is recorded: a domain error's code, or the type of any other exception (which
fails the test: a deadlock or a lock timeout is a bug, not a sold-out answer).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from funnel.catalog.models import Variant
from funnel.core import clock
from funnel.core.database import transaction
from funnel.core.errors import DomainError
from funnel.extensions import db
from funnel.inventory import queries, services
from funnel.inventory.models import StockMovement, StockReservation
from tests.factories.inventory import StockReservationFactory, stocked_variant

BUYERS = 20
STOCK = 5


def race(app: Flask, count: int, attempt: Callable[[int], object]) -> Counter[str]:
    """Run ``attempt(number)`` in ``count`` threads at once; count the outcomes."""
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(count)

    def run(number: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                attempt(number)
                outcome = "ok"
            except DomainError as error:
                outcome = error.code
            except Exception as error:
                outcome = f"{type(error).__name__}: {error}"
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def stock_of(variant_id: int) -> int:
    db.session.close()  # read what the threads committed, not an old snapshot
    return db.session.scalar(select(Variant.stock_quantity).where(Variant.id == variant_id))


def sales(variant_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(StockMovement.quantity)
            .where(StockMovement.variant_id == variant_id, StockMovement.reason == "sale")
            .order_by(StockMovement.id)
        )
    )


def reservation_count() -> int:
    return db.session.scalar(select(func.count()).select_from(StockReservation))


@pytest.mark.story("US-19")
def test_twenty_buyers_race_for_five_units_and_exactly_five_buy(app: Flask) -> None:
    # given a variant with 5 units
    variant_id = stocked_variant(STOCK).id

    # when 20 checkouts at once reserve 1 unit each, then place their order
    def buy(number: int) -> None:
        services.reserve(f"checkout-{number}", {variant_id: 1})
        services.commit_reservation(f"checkout-{number}", f"FN-{number:04d}")

    outcomes = race(app, BUYERS, buy)

    # then exactly 5 bought, 15 were told it is sold out, and nothing else happened
    assert outcomes == Counter({"ok": STOCK, "insufficient_stock": BUYERS - STOCK})
    # and the stock is 0, sold once per unit, the ledger balances, no reservation is left
    assert stock_of(variant_id) == 0
    assert sales(variant_id) == [-1] * STOCK
    assert queries.ledger_discrepancies() == []
    assert reservation_count() == 0


@pytest.mark.story("US-19")
def test_twenty_lapsed_reservations_race_to_commit_and_exactly_five_sell(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a variant with 5 units and 20 reservations of 1 unit that have all lapsed
    # (the reservations no longer protect anyone: only the locks and the decrement do)
    variant_id = stocked_variant(STOCK).id
    for number in range(BUYERS):
        StockReservationFactory(variant_id=variant_id, holder=f"checkout-{number}")
    later = clock.utcnow() + timedelta(hours=1)
    monkeypatch.setattr(clock, "utcnow", lambda: later)

    # when all 20 place their order at once
    outcomes = race(
        app,
        BUYERS,
        lambda number: services.commit_reservation(f"checkout-{number}", f"FN-{number:04d}"),
    )

    # then exactly 5 sold, 15 are out of stock, the stock never went below zero
    assert outcomes == Counter({"ok": STOCK, "out_of_stock": BUYERS - STOCK})
    assert stock_of(variant_id) == 0
    assert sales(variant_id) == [-1] * STOCK
    assert queries.ledger_discrepancies() == []
    assert reservation_count() == BUYERS - STOCK


def test_a_checkout_submitted_eight_times_at_once_sells_once(app: Flask) -> None:
    # given a checkout holding 2 of 5 units
    variant_id = stocked_variant(STOCK).id
    services.reserve("checkout-a", {variant_id: 2})

    # when its order is submitted 8 times at once
    outcomes = race(app, 8, lambda _number: services.commit_reservation("checkout-a", "FN-1"))

    # then one commit sold the 2 units; the others found the reservation used
    assert outcomes == Counter({"ok": 1, "reservation_not_found": 7})
    assert stock_of(variant_id) == 3
    assert sales(variant_id) == [-2]
    assert queries.ledger_discrepancies() == []


@pytest.mark.story("US-29")
def test_staff_and_buyers_changing_one_variant_at_once_keep_the_ledger_balanced(
    app: Flask,
) -> None:
    # given two variants with 5 units that nobody has moved yet (no opening balance yet)
    first = stocked_variant(STOCK).id
    second = stocked_variant(STOCK).id

    # when at once 6 buyers take 1 of each, 4 staff receive 2 of the second, 4 write 1 off
    # the first, and 4 count the second as 10
    def act(number: int) -> None:
        if number < 6:
            services.reserve(f"checkout-{number}", {second: 1, first: 1})
            services.commit_reservation(f"checkout-{number}", f"FN-{number}")
        elif number < 10:
            services.adjust_stock(second, delta=2, reason="received")
        elif number < 14:
            services.adjust_stock(first, delta=-1, reason="damaged")
        else:
            services.adjust_stock(second, new_level=10, reason="counted")

    outcomes = race(app, 18, act)
    db.session.close()  # read what the threads committed, not an old snapshot

    # then no request failed for anything but a lack of stock, each variant has exactly one
    # opening balance, stock never went negative, and the ledger balances
    assert set(outcomes) <= {"ok", "insufficient_stock", "out_of_stock"}
    assert sum(outcomes.values()) == 18
    openings = db.session.execute(
        select(StockMovement.variant_id, func.count())
        .where(StockMovement.reason == "opening_balance")
        .group_by(StockMovement.variant_id)
        .order_by(StockMovement.variant_id)
    )
    assert [tuple(row) for row in openings] == [(first, 1), (second, 1)]
    assert stock_of(first) >= 0
    assert stock_of(second) >= 0
    assert queries.ledger_discrepancies() == []


def test_an_opening_balance_is_recorded_once_even_by_callers_reading_an_old_snapshot(
    app: Flask,
) -> None:
    # given a variant nobody has moved yet, and 6 callers whose own transactions read first
    # (on MariaDB, REPEATABLE READ then pins a snapshot older than the other callers' commits)
    variant_id = stocked_variant(STOCK).id

    def staff_page_that_adjusts(_number: int) -> None:
        with transaction():
            db.session.execute(select(func.count()).select_from(StockMovement)).scalar()
            services.adjust_stock(variant_id, delta=1, reason="received")

    # when they all adjust the stock at once, inside their transactions
    outcomes = race(app, 6, staff_page_that_adjusts)
    db.session.close()

    # then all succeeded, with one opening balance between them, and the ledger balances
    assert outcomes == Counter({"ok": 6})
    openings = db.session.scalar(
        select(func.count())
        .select_from(StockMovement)
        .where(StockMovement.reason == "opening_balance")
    )
    assert openings == 1
    assert stock_of(variant_id) == STOCK + 6
    assert queries.ledger_discrepancies() == []
