"""Stock changes and the ledger: staff adjustments, returns, and the database's own guard."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import select

from funnel.accounts.models import Role
from funnel.catalog.errors import VariantNotFound
from funnel.catalog.models import Variant
from funnel.core.errors import DomainError
from funnel.extensions import db
from funnel.inventory import queries, services
from funnel.inventory.errors import (
    InvalidStockQuantity,
    InvalidStockReason,
    OutOfStock,
    ReturnExceedsSale,
    ShortLine,
)
from funnel.inventory.models import MovementReason, StockMovement
from funnel.inventory.queries import LedgerDiscrepancy
from tests.factories.accounts import UserFactory
from tests.factories.inventory import stocked_variant


def stock_of(variant_id: int) -> int:
    return db.session.scalar(select(Variant.stock_quantity).where(Variant.id == variant_id))


def ledger(variant_id: int) -> list[tuple[str, int, int, str | None]]:
    """(reason, quantity, balance after, order reference) of a variant's movements, oldest first."""
    rows = db.session.execute(
        select(
            StockMovement.reason,
            StockMovement.quantity,
            StockMovement.balance_after,
            StockMovement.order_reference,
        )
        .where(StockMovement.variant_id == variant_id)
        .order_by(StockMovement.id)
    )
    return [(reason.value, quantity, balance, ref) for reason, quantity, balance, ref in rows]


def sell(variant_id: int, units: int, order_reference: str) -> None:
    services.reserve(f"checkout-{order_reference}", {variant_id: units})
    services.commit_reservation(f"checkout-{order_reference}", order_reference)


@pytest.mark.story("US-29")
def test_an_adjustment_records_the_opening_balance_then_the_change(app: Flask) -> None:
    # given a variant the catalogue created with 5 units, and a staff member
    variant = stocked_variant(5)
    staff = UserFactory(role=Role.STAFF)

    # when staff receive 3 more
    movement = services.adjust_stock(
        variant.id, delta=3, reason="received", note=" Delivery 42 ", actor_id=staff.id
    )

    # then the stock is 8, and the ledger holds the opening level and the change, with who/why
    assert stock_of(variant.id) == 8
    assert ledger(variant.id) == [("opening_balance", 5, 5, None), ("received", 3, 8, None)]
    assert (movement.actor_id, movement.note, movement.reason) == (
        staff.id,
        "Delivery 42",
        MovementReason.RECEIVED,
    )
    assert movement.created_at.tzinfo is not None
    assert queries.ledger_discrepancies() == []


@pytest.mark.story("US-29")
def test_setting_a_counted_level_records_the_difference(app: Flask) -> None:
    # given a variant with 5 units
    variant = stocked_variant(5)

    # when a count finds 2, then another count finds 2 again
    services.adjust_stock(variant.id, new_level=2, reason="counted")
    services.adjust_stock(variant.id, new_level=2, reason="counted")

    # then the level is 2 and the ledger shows -3, then a count that matched
    assert stock_of(variant.id) == 2
    assert ledger(variant.id) == [
        ("opening_balance", 5, 5, None),
        ("counted", -3, 2, None),
        ("counted", 0, 2, None),
    ]
    assert queries.ledger_discrepancies() == []


def test_a_variant_loaded_in_the_session_shows_the_new_level(app: Flask) -> None:
    # given a variant already loaded in the session
    variant = stocked_variant(5)
    assert variant.stock_quantity == 5

    # when its stock is adjusted
    services.adjust_stock(variant.id, delta=-2, reason="damaged")

    # then the loaded object shows the new level
    assert variant.stock_quantity == 3


def test_stock_is_changed_by_one_conditional_update(app: Flask, sql_statements: list[str]) -> None:
    # given a variant with 5 units
    variant = stocked_variant(5)
    sql_statements.clear()

    # when 2 are written off
    services.adjust_stock(variant.id, delta=-2, reason="damaged")

    # then the only write to variants is an UPDATE conditional on the stock being there
    updates = [s for s in sql_statements if s.lstrip().upper().startswith("UPDATE VARIANTS")]
    assert len(updates) == 1
    assert "variants.stock_quantity >=" in updates[0]
    assert "(variants.stock_quantity +" in updates[0]


def test_stock_cannot_be_taken_below_zero(app: Flask) -> None:
    # given a variant with 2 units
    variant = stocked_variant(2, sku="LOW-1")

    # when staff write off 3, then it is refused with what is there
    with pytest.raises(OutOfStock) as raised:
        services.adjust_stock(variant.id, delta=-3, reason="damaged")
    assert raised.value.code == "out_of_stock"
    assert raised.value.lines == [ShortLine(variant.id, "LOW-1", 3, 2)]
    assert raised.value.extra == {
        "lines": [{"variant_id": variant.id, "sku": "LOW-1", "requested": 3, "available": 2}]
    }

    # and nothing changed, not even an opening balance
    assert stock_of(variant.id) == 2
    assert ledger(variant.id) == []


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"delta": 1, "reason": "sale"}, InvalidStockReason),
        ({"delta": 1, "reason": "opening_balance"}, InvalidStockReason),
        ({"delta": 1, "reason": "stolen by gnomes"}, InvalidStockReason),
        ({"delta": 0, "reason": "adjustment"}, InvalidStockQuantity),
        ({"delta": True, "reason": "adjustment"}, InvalidStockQuantity),
        ({"delta": 1.5, "reason": "adjustment"}, InvalidStockQuantity),
        ({"delta": 1, "new_level": 4, "reason": "adjustment"}, InvalidStockQuantity),
        ({"reason": "adjustment"}, InvalidStockQuantity),
        ({"new_level": -1, "reason": "counted"}, InvalidStockQuantity),
        ({"new_level": 10**9 + 1, "reason": "counted"}, InvalidStockQuantity),
        ({"delta": 10**9, "reason": "received"}, InvalidStockQuantity),
        ({"delta": 1, "reason": "adjustment", "note": "x" * 501}, InvalidStockQuantity),
    ],
)
def test_a_bad_adjustment_is_refused_and_changes_nothing(
    app: Flask, arguments: dict, error: type[DomainError]
) -> None:
    # given a variant with 5 units
    variant = stocked_variant(5)

    # when an adjustment breaks a rule, then it is refused with a clear error
    with pytest.raises(error):
        services.adjust_stock(variant.id, **arguments)

    # and nothing changed
    assert stock_of(variant.id) == 5
    assert ledger(variant.id) == []


def test_adjusting_an_unknown_variant_is_not_found(app: Flask) -> None:
    with pytest.raises(VariantNotFound):
        services.adjust_stock(999_999, delta=1, reason="received")
    with pytest.raises(VariantNotFound):
        services.adjust_stock(999_999, new_level=1, reason="counted")


@pytest.mark.story("US-29")
def test_a_cancelled_order_gives_its_units_back(app: Flask) -> None:
    # given an order that bought 2 of 5 units
    variant = stocked_variant(5)
    sell(variant.id, 2, "ORD-1")
    assert stock_of(variant.id) == 3

    # when the order is cancelled
    [movement] = services.return_stock(
        "ORD-1", {variant.id: 2}, reason="cancellation_return", note="Customer cancelled"
    )

    # then the units are back, and the ledger tells the whole story with the order reference
    assert stock_of(variant.id) == 5
    assert (movement.quantity, movement.balance_after) == (2, 5)
    assert ledger(variant.id) == [
        ("opening_balance", 5, 5, None),
        ("sale", -2, 3, "ORD-1"),
        ("cancellation_return", 2, 5, "ORD-1"),
    ]
    assert queries.ledger_discrepancies() == []


@pytest.mark.story("US-29")
def test_an_order_cannot_give_back_more_than_it_took(app: Flask) -> None:
    # given an order that bought 2 units, and another order of the same variant
    variant = stocked_variant(5)
    sell(variant.id, 2, "ORD-1")
    sell(variant.id, 1, "ORD-2")

    # when it returns 3, then it is refused
    with pytest.raises(ReturnExceedsSale):
        services.return_stock("ORD-1", {variant.id: 3}, reason="refund_return")

    # when it returns 1 then 1 (a partial refund, then the rest), both are accepted
    services.return_stock("ORD-1", {variant.id: 1}, reason="refund_return")
    services.return_stock("ORD-1", {variant.id: 1}, reason="returned")

    # and a second cancellation of the same order is refused instead of doubling the stock
    with pytest.raises(ReturnExceedsSale):
        services.return_stock("ORD-1", {variant.id: 1}, reason="cancellation_return")
    assert stock_of(variant.id) == 4
    assert queries.ledger_discrepancies() == []


@pytest.mark.parametrize(
    ("reference", "quantities", "reason", "error"),
    [
        ("NO-SUCH-ORDER", {"variant": 1}, "cancellation_return", ReturnExceedsSale),
        ("ORD-1", {"variant": 1}, "received", InvalidStockReason),
        ("ORD-1", {"variant": 0}, "cancellation_return", InvalidStockQuantity),
        ("ORD-1", {}, "cancellation_return", InvalidStockQuantity),
        ("", {"variant": 1}, "cancellation_return", InvalidStockQuantity),
        ("R" * 65, {"variant": 1}, "cancellation_return", InvalidStockQuantity),
        ("ORD-1", {999_999: 1}, "cancellation_return", VariantNotFound),
    ],
)
def test_a_bad_return_is_refused_and_changes_nothing(
    app: Flask, reference: str, quantities: dict, reason: str, error: type[DomainError]
) -> None:
    # given an order that bought 1 unit
    variant = stocked_variant(5)
    sell(variant.id, 1, "ORD-1")
    quantities = {
        variant.id if key == "variant" else key: value for key, value in quantities.items()
    }

    # when a return breaks a rule, then it is refused
    with pytest.raises(error):
        services.return_stock(reference, quantities, reason=reason)

    # and nothing changed
    assert stock_of(variant.id) == 4
    assert len(ledger(variant.id)) == 2


@pytest.mark.story("US-19")
def test_the_database_refuses_negative_stock(app: Flask, backend: str) -> None:
    # given a variant with 1 unit
    variant = stocked_variant(1)

    # when a raw UPDATE (bypassing the services) sets -1, then the CHECK constraint refuses it:
    # an IntegrityError on SQLite and PostgreSQL; PyMySQL reports MariaDB's error 4025
    # (CONSTRAINT_FAILED) as an OperationalError
    expected = sa.exc.OperationalError if backend == "mysql" else sa.exc.IntegrityError
    with pytest.raises(expected) as raised, db.engine.begin() as connection:
        connection.execute(
            sa.update(Variant).where(Variant.id == variant.id).values(stock_quantity=-1)
        )
    assert "stock_quantity_non_negative" in str(raised.value.orig) or backend == "sqlite"
    assert stock_of(variant.id) == 1


def test_ledger_discrepancies_finds_a_level_changed_behind_the_ledger(app: Flask) -> None:
    # given two variants with movements, and one without
    tampered = stocked_variant(5, sku="TAMPER-1").id
    honest = stocked_variant(5).id
    stocked_variant(5)
    services.adjust_stock(tampered, delta=1, reason="received")
    services.adjust_stock(honest, delta=1, reason="received")

    # when one's level is changed without a movement
    db.session.close()
    with db.engine.begin() as connection:
        connection.execute(
            sa.update(Variant).where(Variant.id == tampered).values(stock_quantity=9)
        )

    # then the check reports that one, with both numbers
    assert queries.ledger_discrepancies() == [LedgerDiscrepancy(tampered, "TAMPER-1", 9, 6)]


def test_a_movement_outlives_the_account_that_made_it(app: Flask) -> None:
    # given a movement made by a staff member
    variant = stocked_variant(5)
    staff = UserFactory(role=Role.STAFF)
    movement = services.adjust_stock(variant.id, delta=1, reason="received", actor_id=staff.id)
    movement_id, staff_id = movement.id, staff.id

    # when the account is deleted
    db.session.close()
    with db.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM users WHERE id = :id"), {"id": staff_id})

    # then the movement stays, without its actor
    kept = db.session.get(StockMovement, movement_id)
    assert (kept.quantity, kept.actor_id) == (1, None)


def test_movements_and_low_stock_queries(app: Flask) -> None:
    # given a variant with a few movements, and variants at several levels
    variant = stocked_variant(5)
    services.adjust_stock(variant.id, delta=-1, reason="damaged")
    services.adjust_stock(variant.id, delta=-3, reason="damaged")
    plenty = stocked_variant(50)
    empty = stocked_variant(0)

    # then the movements come newest first, and the low-stock list lowest first
    assert [m.quantity for m in queries.movements_for_variant(variant.id)] == [-3, -1, 5]
    assert [m.quantity for m in queries.movements_for_variant(variant.id, limit=1)] == [-3]
    assert [v.id for v in queries.low_stock_variants(5)] == [empty.id, variant.id]
    assert plenty.id not in [v.id for v in queries.low_stock_variants(49)]
