"""Reservations: held units count against everyone else, lapse on time, and become sales."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from funnel.catalog.errors import VariantNotFound
from funnel.catalog.models import Variant
from funnel.core import clock
from funnel.core.database import transaction
from funnel.core.errors import DomainError
from funnel.extensions import db
from funnel.inventory import queries, services, tasks
from funnel.inventory.errors import (
    InsufficientStock,
    InvalidHolder,
    InvalidStockQuantity,
    OutOfStock,
    ReservationLimitReached,
    ReservationMismatch,
    ReservationNotFound,
    ShortLine,
)
from funnel.inventory.models import StockMovement, StockReservation
from tests.factories.accounts import UserFactory
from tests.factories.inventory import StockReservationFactory, stocked_variant

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


class Boom(Exception):
    """Raised by a test to make a transaction fail."""


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The clock stands still at ``frozen[0]``; tests move it by assigning ``frozen[0]``."""
    now = [NOON]
    monkeypatch.setattr(clock, "utcnow", lambda: now[0])
    return now


def stock_of(variant_id: int) -> int:
    return db.session.scalar(select(Variant.stock_quantity).where(Variant.id == variant_id))


def reserved() -> list[tuple[str, int, int]]:
    """(holder, variant id, quantity) of every reservation row, expired ones included."""
    rows = db.session.execute(
        select(
            StockReservation.holder, StockReservation.variant_id, StockReservation.quantity
        ).order_by(StockReservation.holder, StockReservation.variant_id)
    )
    return [tuple(row) for row in rows]


def movement_count() -> int:
    return db.session.scalar(select(func.count()).select_from(StockMovement))


@pytest.mark.story("US-19")
def test_a_reservation_counts_against_everyone_else(app: Flask) -> None:
    # given a variant with 5 units
    variant = stocked_variant(5)

    # when checkout A reserves 3
    [reservation] = services.reserve("checkout-a", {variant.id: 3})

    # then 2 are left for everyone else, while A still sees its own 3 (and the stock is 5)
    assert (reservation.variant_id, reservation.quantity) == (variant.id, 3)
    assert queries.available_quantities([variant.id]) == {variant.id: 2}
    assert queries.available_quantities([variant.id], excluding_holder="checkout-a") == {
        variant.id: 5
    }
    assert stock_of(variant.id) == 5


@pytest.mark.story("US-19")
def test_a_short_reservation_lists_every_short_line_and_keeps_the_old_one(app: Flask) -> None:
    # given two variants with 2 and 1 units, one of the first held by someone else,
    # and checkout A already holding 1 of the second
    first = stocked_variant(2, sku="SHORT-1")
    second = stocked_variant(1, sku="SHORT-2")
    services.reserve("checkout-b", {first.id: 1})
    services.reserve("checkout-a", {second.id: 1})

    # when A asks for 2 of the first and 3 of the second
    with pytest.raises(InsufficientStock) as raised:
        services.reserve("checkout-a", {second.id: 3, first.id: 2})

    # then both lines are listed with what is available to A, in variant order
    assert raised.value.code == "insufficient_stock"
    assert raised.value.lines == [
        ShortLine(first.id, "SHORT-1", 2, 1),
        ShortLine(second.id, "SHORT-2", 3, 1),
    ]
    # and A keeps the reservation it had
    assert reserved() == [("checkout-a", second.id, 1), ("checkout-b", first.id, 1)]


@pytest.mark.config(RESERVATION_MAX_SHARE=50)
def test_one_owner_holds_at_most_its_share_through_all_its_holders(app: Flask) -> None:
    # given 10 units and 3 of them held by owner O through checkout A
    variant = stocked_variant(10, sku="SHARE-1")
    services.reserve("checkout-a", {variant.id: 3}, owner="O")

    # when O asks for 3 more through checkout B
    with pytest.raises(ReservationLimitReached) as raised:
        services.reserve("checkout-b", {variant.id: 3}, owner="O")

    # then it may only have 2 more (half of 10); another owner may have its own half
    assert raised.value.code == "reservation_limit_reached"
    assert raised.value.lines == [ShortLine(variant.id, "SHARE-1", 3, 2)]
    services.reserve("checkout-b", {variant.id: 2}, owner="O")
    services.reserve("checkout-c", {variant.id: 5}, owner="P")
    assert reserved() == [
        ("checkout-a", variant.id, 3),
        ("checkout-b", variant.id, 2),
        ("checkout-c", variant.id, 5),
    ]


@pytest.mark.config(RESERVATION_MAX_SHARE=50)
def test_reserving_again_counts_only_the_owners_other_holders(app: Flask) -> None:
    variant = stocked_variant(10)
    services.reserve("checkout-a", {variant.id: 5}, owner="O")

    [again] = services.reserve("checkout-a", {variant.id: 5}, owner="O")

    assert (again.quantity, again.owner) == (5, "O")
    with pytest.raises(ReservationLimitReached):
        services.reserve("checkout-a", {variant.id: 6}, owner="O")
    assert reserved() == [("checkout-a", variant.id, 5)]


@pytest.mark.config(RESERVATION_MAX_SHARE=50)
def test_an_expired_hold_no_longer_counts_against_its_owner(app: Flask, frozen: list) -> None:
    variant = stocked_variant(4)
    services.reserve("checkout-a", {variant.id: 2}, owner="O", minutes=15)

    frozen[0] = NOON + timedelta(minutes=15)

    [reservation] = services.reserve("checkout-b", {variant.id: 2}, owner="O")
    assert reservation.quantity == 2


@pytest.mark.config(RESERVATION_MAX_SHARE=50)
def test_the_share_is_at_least_one_unit(app: Flask) -> None:
    variant = stocked_variant(1)

    [reservation] = services.reserve("checkout-a", {variant.id: 1}, owner="O")

    assert reservation.quantity == 1


@pytest.mark.config(RESERVATION_MAX_SHARE=100)
def test_no_share_limit_at_100_percent_nor_without_an_owner(app: Flask) -> None:
    first, second = stocked_variant(4), stocked_variant(4)

    services.reserve("checkout-a", {first.id: 4}, owner="O")
    app.config["RESERVATION_MAX_SHARE"] = 50
    services.reserve("checkout-b", {second.id: 4})

    assert reserved() == [("checkout-a", first.id, 4), ("checkout-b", second.id, 4)]


def test_reserving_again_replaces_the_holders_reservations(app: Flask) -> None:
    # given checkout A holding 2 of one variant and 1 of another
    first = stocked_variant(5)
    second = stocked_variant(5)
    services.reserve("checkout-a", {first.id: 2, second.id: 1})

    # when the cart changes to 4 of the first only
    services.reserve("checkout-a", {first.id: 4})

    # then only that is held
    assert reserved() == [("checkout-a", first.id, 4)]
    assert queries.available_quantities([first.id, second.id]) == {first.id: 1, second.id: 5}


def test_release_drops_the_holders_reservations_only(app: Flask) -> None:
    # given reservations of two checkouts
    variant = stocked_variant(5)
    other = stocked_variant(5)
    services.reserve("checkout-a", {variant.id: 2, other.id: 1})
    services.reserve("checkout-b", {variant.id: 1})

    # when A's are released (twice), and B reserves nothing
    dropped = services.release("checkout-a")
    dropped_again = services.release("checkout-a")
    emptied = services.reserve("checkout-c", {})

    # then only B's remain
    assert (dropped, dropped_again, emptied) == (2, 0, [])
    assert reserved() == [("checkout-b", variant.id, 1)]


def test_an_empty_reservation_releases_the_holder(app: Flask) -> None:
    variant = stocked_variant(5)
    services.reserve("checkout-a", {variant.id: 2})

    assert services.reserve("checkout-a", {}) == []
    assert reserved() == []


@pytest.mark.parametrize(
    ("holder", "quantities", "extra", "error"),
    [
        ("", {"variant": 1}, {}, InvalidHolder),
        ("h" * 129, {"variant": 1}, {}, InvalidHolder),
        (None, {"variant": 1}, {}, InvalidHolder),
        ("checkout-a", {"variant": 0}, {}, InvalidStockQuantity),
        ("checkout-a", {"variant": -1}, {}, InvalidStockQuantity),
        ("checkout-a", {"variant": 1.5}, {}, InvalidStockQuantity),
        ("checkout-a", {"variant": True}, {}, InvalidStockQuantity),
        ("checkout-a", {"variant": "2"}, {}, InvalidStockQuantity),
        ("checkout-a", {"1": 1}, {}, InvalidStockQuantity),
        ("checkout-a", {"variant": 1}, {"minutes": 0}, InvalidStockQuantity),
        ("checkout-a", {999_999: 1}, {}, VariantNotFound),
    ],
)
def test_a_bad_reservation_is_refused_and_changes_nothing(
    app: Flask, holder: str, quantities: dict, extra: dict, error: type[DomainError]
) -> None:
    # given checkout A holding 1 unit
    variant = stocked_variant(5)
    services.reserve("checkout-a", {variant.id: 1})
    quantities = {
        variant.id if key == "variant" else key: value for key, value in quantities.items()
    }

    # when a reservation breaks a rule, then it is refused
    with pytest.raises(error):
        services.reserve(holder, quantities, **extra)

    # and nothing changed
    assert reserved() == [("checkout-a", variant.id, 1)]


@pytest.mark.config(RESERVATION_MINUTES=30)
def test_a_reservation_lasts_the_configured_minutes(app: Flask, frozen: list) -> None:
    variant = stocked_variant(5)

    [by_setting] = services.reserve("checkout-a", {variant.id: 1})
    [by_argument] = services.reserve("checkout-b", {variant.id: 1}, minutes=7 * 24 * 60)

    assert by_setting.expires_at == NOON + timedelta(minutes=30)
    assert by_argument.expires_at == NOON + timedelta(days=7)


@pytest.mark.story("US-19")
def test_an_expired_reservation_stops_counting_at_once_and_the_job_deletes_it(
    app: Flask, frozen: list
) -> None:
    # given checkout A holding all 5 units for 15 minutes (the default)
    variant = stocked_variant(5)
    services.reserve("checkout-a", {variant.id: 5})
    assert queries.available_quantities([variant.id]) == {variant.id: 0}
    with pytest.raises(InsufficientStock):
        services.reserve("checkout-b", {variant.id: 1})

    # when 15 minutes pass, before any job has run
    frozen[0] = NOON + timedelta(minutes=15)

    # then the units are available again, and B can reserve them
    assert queries.available_quantities([variant.id]) == {variant.id: 5}
    services.reserve("checkout-b", {variant.id: 5})

    # when the job runs (in-process, as without a broker)
    deleted = tasks.delete_expired_reservations.delay().get()

    # then it has deleted A's lapsed reservation and kept B's
    assert deleted == 1
    assert reserved() == [("checkout-b", variant.id, 5)]


def test_the_job_deletes_in_batches(app: Flask, frozen: list) -> None:
    # given 5 lapsed reservations and 1 live one
    variant = stocked_variant(10)
    for number in range(5):
        StockReservationFactory(
            variant_id=variant.id, holder=f"old-{number}", expires_at=NOON - timedelta(seconds=1)
        )
    StockReservationFactory(variant_id=variant.id, holder="live", expires_at=NOON + timedelta(1))

    # when they are deleted two at a time
    deleted = services.delete_expired_reservations(batch_size=2)

    # then all 5 lapsed ones are gone
    assert deleted == 5
    assert reserved() == [("live", variant.id, 1)]


def test_the_expiry_job_is_scheduled_every_minute() -> None:
    [entry] = tasks.BEAT_SCHEDULE.values()
    assert entry == {"task": tasks.delete_expired_reservations.name, "schedule": 60.0}


def test_availability_is_one_query_for_many_variants(app: Flask, sql_statements: list[str]) -> None:
    # given 10 variants with 3 units, each with 1 reserved, and an unknown id
    ids = [stocked_variant(3).id for _ in range(10)]
    for variant_id in ids:
        services.reserve(f"checkout-{variant_id}", {variant_id: 1})
    sql_statements.clear()

    # when their availability is asked for
    available = queries.available_quantities([*ids, 999_999])

    # then one query answers, with 2 for each known variant
    assert available == dict.fromkeys(ids, 2)
    assert len(sql_statements) == 1


@pytest.mark.story("US-19", "US-29")
def test_committing_turns_the_reservation_into_a_sale(app: Flask) -> None:
    # given checkout A holding 2 of 5 units, and 1 of another variant
    variant = stocked_variant(5)
    other = stocked_variant(4)
    staff = UserFactory()
    services.reserve("checkout-a", {variant.id: 2, other.id: 1})

    # when the order is placed
    sold = services.commit_reservation(
        "checkout-a", "FN-1001", actor_id=staff.id, expected={other.id: 1, variant.id: 2}
    )

    # then the stock is decremented, the reservation is gone and the ledger records the sale
    assert sold == {variant.id: 2, other.id: 1}
    assert (stock_of(variant.id), stock_of(other.id)) == (3, 3)
    assert reserved() == []
    sales = db.session.execute(
        select(
            StockMovement.variant_id,
            StockMovement.quantity,
            StockMovement.balance_after,
            StockMovement.order_reference,
            StockMovement.actor_id,
        )
        .where(StockMovement.reason == "sale")
        .order_by(StockMovement.variant_id)
    )
    assert [tuple(row) for row in sales] == [
        (variant.id, -2, 3, "FN-1001", staff.id),
        (other.id, -1, 3, "FN-1001", staff.id),
    ]
    assert queries.ledger_discrepancies() == []


def test_committing_joins_the_callers_transaction(app: Flask) -> None:
    # given checkout A holding 2 units
    variant = stocked_variant(5)
    services.reserve("checkout-a", {variant.id: 2})

    # when the checkout's own transaction fails after committing the reservation
    def place_order_that_fails() -> None:
        with transaction():
            services.commit_reservation("checkout-a", "FN-1")
            raise Boom

    with pytest.raises(Boom):
        place_order_that_fails()

    # then nothing happened: the stock, the reservation and the ledger are as before
    assert stock_of(variant.id) == 5
    assert reserved() == [("checkout-a", variant.id, 2)]
    assert movement_count() == 0


def test_a_reservation_is_committed_once(app: Flask) -> None:
    # given a committed reservation
    variant = stocked_variant(5)
    services.reserve("checkout-a", {variant.id: 2})
    services.commit_reservation("checkout-a", "FN-1")

    # when it is committed again (a double submit), then it is refused and sells nothing more
    with pytest.raises(ReservationNotFound) as raised:
        services.commit_reservation("checkout-a", "FN-1")
    assert raised.value.code == "reservation_not_found"
    assert stock_of(variant.id) == 3


def test_a_reservation_that_differs_from_the_order_is_not_committed(app: Flask) -> None:
    variant = stocked_variant(5)
    services.reserve("checkout-a", {variant.id: 2})

    with pytest.raises(ReservationMismatch):
        services.commit_reservation("checkout-a", "FN-1", expected={variant.id: 3})

    assert stock_of(variant.id) == 5
    assert reserved() == [("checkout-a", variant.id, 2)]


@pytest.mark.parametrize(("holder", "reference"), [("", "FN-1"), ("checkout-a", ""), (None, "x")])
def test_a_malformed_commit_is_refused(app: Flask, holder: str, reference: str) -> None:
    variant = stocked_variant(5)
    services.reserve("checkout-a", {variant.id: 2})

    with pytest.raises((InvalidHolder, InvalidStockQuantity)):
        services.commit_reservation(holder, reference)

    assert stock_of(variant.id) == 5


@pytest.mark.story("US-19")
def test_a_lapsed_reservation_still_commits_while_the_units_are_free(
    app: Flask, frozen: list
) -> None:
    # given a reservation of 2 that lapsed 5 minutes ago, nobody else holding the units
    variant = stocked_variant(5)
    services.reserve("checkout-a", {variant.id: 2})
    frozen[0] = NOON + timedelta(minutes=20)

    # when it is committed, then the sale goes through
    assert services.commit_reservation("checkout-a", "FN-1") == {variant.id: 2}
    assert stock_of(variant.id) == 3


@pytest.mark.story("US-19")
def test_a_lapsed_reservation_whose_units_went_to_another_is_out_of_stock(
    app: Flask, frozen: list
) -> None:
    # given the last unit reserved by A, whose reservation lapsed, then reserved by B
    variant = stocked_variant(1, sku="LAST-1")
    services.reserve("checkout-a", {variant.id: 1})
    frozen[0] = NOON + timedelta(minutes=16)
    services.reserve("checkout-b", {variant.id: 1})

    # when A finally places its order, then it is out of stock, and nothing changed
    with pytest.raises(OutOfStock) as raised:
        services.commit_reservation("checkout-a", "FN-A")
    assert raised.value.lines == [ShortLine(variant.id, "LAST-1", 1, 0)]
    assert stock_of(variant.id) == 1
    assert movement_count() == 0

    # and B buys the unit
    services.commit_reservation("checkout-b", "FN-B")
    assert stock_of(variant.id) == 0
    assert queries.ledger_discrepancies() == []


def test_stock_written_off_below_a_reservation_makes_the_commit_out_of_stock(app: Flask) -> None:
    # given A holding 2 units, then 1 of the 2 damaged
    variant = stocked_variant(2, sku="DMG-1")
    services.reserve("checkout-a", {variant.id: 2})
    services.adjust_stock(variant.id, delta=-1, reason="damaged")
    assert queries.available_quantities([variant.id]) == {variant.id: 0}

    # when A places its order, then it is out of stock with what is there
    with pytest.raises(OutOfStock) as raised:
        services.commit_reservation("checkout-a", "FN-1")
    assert raised.value.lines == [ShortLine(variant.id, "DMG-1", 2, 1)]
    assert stock_of(variant.id) == 1
    assert reserved() == [("checkout-a", variant.id, 2)]
