"""Refunds by line: units of chosen lines at their price and share of the tax, the shipping as
a choice of its own, only the chosen units back in stock, never more than is left."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from funnel.accounts.models import User
from funnel.catalog.models import Variant
from funnel.extensions import db
from funnel.inventory import queries as inventory_queries
from funnel.inventory import services as inventory
from funnel.inventory.models import StockMovement
from funnel.orders import queries, services
from funnel.orders.errors import InvalidOrderInput, RefundExceedsOrder
from funnel.orders.models import Order, OrderLine, OrderStatus, Refund, RefundLine
from funnel.orders.services import RefundLineInput
from funnel.payments import queries as payment_queries
from funnel.payments.errors import PaymentIdempotencyKeyReused, RefundExceedsPayment
from tests.factories.inventory import stocked_variant
from tests.factories.orders import money, pay_by_card, place
from tests.support.mailbox import Mailbox

pytestmark = pytest.mark.story("US-32")


def stock(variant: Variant) -> int:
    return db.session.scalar(select(Variant.stock_quantity).where(Variant.id == variant.id))


def movements(number: str) -> list[tuple[str, int, int]]:
    rows = db.session.scalars(
        select(StockMovement)
        .where(StockMovement.order_reference == number)
        .order_by(StockMovement.id)
    )
    return [(row.reason.value, row.variant_id, row.quantity) for row in rows]


def refund_count() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(Refund)),
        db.session.scalar(select(func.count()).select_from(RefundLine)),
    )


def two_line_order(
    staff: User, *, shipped: bool = True
) -> tuple[Order, Variant, Variant, OrderLine, OrderLine]:
    """Paid: 2 x A and 1 x B at $10.00, $5.00 shipping, $3.00 tax ($38.00); shipped."""
    variant_a, variant_b = stocked_variant(10), stocked_variant(10)
    order = place([(variant_a, 2), (variant_b, 1)])
    pay_by_card(order)
    if shipped:
        services.fulfil_order(order.number, actor_user_id=staff.id)
    line_a, line_b = queries.order_lines(order)
    return order, variant_a, variant_b, line_a, line_b


def refund(order: Order, admin: User, key: str, *lines: RefundLineInput, **kwargs):
    return services.refund_order(
        order.number, idempotency_key=key, actor_user_id=admin.id, lines=lines, **kwargs
    )


@pytest.mark.story("US-32", "US-29")
def test_restocking_a_refunded_line_puts_back_only_its_units_not_the_whole_order(
    app: Flask, staff_user: User, admin_user: User
) -> None:
    # given a shipped order of 2 x A and 1 x B (stock 8 and 9 after the sale)
    order, variant_a, variant_b, line_a, _line_b = two_line_order(staff_user)

    # when one unit of A comes back and is refunded with "back to stock"
    outcome = refund(order, admin_user, "refund-one-a-01", RefundLineInput(line_a.id, 1, True))

    # then one unit of A is back on the shelf, and B (still with the customer) is not
    assert (outcome.stock_returned, stock(variant_a), stock(variant_b)) == (True, 9, 9)
    assert movements(order.number)[-1] == ("returned", variant_a.id, 1)
    assert inventory_queries.ledger_discrepancies() == []


def test_a_line_refund_is_its_units_price_and_share_of_the_tax_and_leaves_the_rest(
    app: Flask, staff_user: User, admin_user: User
) -> None:
    # given a shipped order: A's share of the $3.00 tax is $1.71, B's $0.86, shipping's $0.43
    order, variant_a, _variant_b, line_a, line_b = two_line_order(staff_user)

    # when one unit of A is refunded, not back to stock
    first = refund(order, admin_user, "refund-lines-01", RefundLineInput(line_a.id, 1))

    # then $10.86 goes back, the order stays paid (shipped), nothing goes back to stock
    assert (first.amount, first.is_full, first.stock_returned) == (money(1086), False, False)
    assert first.change.status == OrderStatus.FULFILLED
    assert stock(variant_a) == 8
    details = queries.order_details(queries.get_order(order.number))
    assert details.refunded_quantities == {line_a.id: 1, line_b.id: 0}
    assert details.refundable_quantities == {line_a.id: 1, line_b.id: 1}
    [made] = details.refunds
    assert [(item.order_line_id, item.quantity, item.amount_minor) for item in made.lines] == [
        (line_a.id, 1, 1086)
    ]

    # when the rest is refunded by lines, with the shipping
    rest = refund(
        order,
        admin_user,
        "refund-lines-02",
        RefundLineInput(line_a.id, 1),
        RefundLineInput(line_b.id, 1),
        shipping=True,
    )

    # then exactly the rest of $38.00 goes back and the order is refunded
    assert (rest.amount, rest.is_full, rest.change.status) == (
        money(1085 + 1086 + 543),
        True,
        OrderStatus.REFUNDED,
    )
    payment = payment_queries.live_payment_for(order.number)
    assert payment.refunded_minor == 3800


def test_more_units_than_are_left_or_the_shipping_twice_are_refused_and_change_nothing(
    app: Flask, staff_user: User, admin_user: User
) -> None:
    # given one of A's two units and the shipping refunded
    order, _a, _b, line_a, line_b = two_line_order(staff_user)
    refund(order, admin_user, "refund-over-001", RefundLineInput(line_a.id, 1), shipping=True)
    before = refund_count()

    # when two more units of A, or the shipping again, are refunded
    with pytest.raises(RefundExceedsOrder) as too_many:
        refund(order, admin_user, "refund-over-002", RefundLineInput(line_a.id, 2))
    with pytest.raises(RefundExceedsOrder) as shipping_again:
        refund(order, admin_user, "refund-over-003", RefundLineInput(line_b.id, 1), shipping=True)

    # then both are refused with the field named, and nothing was recorded or refunded
    assert too_many.value.fields == {f"lines.{line_a.id}": ["1 of 2 left to refund."]}
    assert shipping_again.value.fields == {"shipping": ["The shipping has been refunded."]}
    assert refund_count() == before
    assert payment_queries.live_payment_for(order.number).refunded_minor == 1086 + 543


def test_a_refund_names_lines_of_its_order_once_with_units_and_not_an_amount_besides(
    app: Flask, staff_user: User, admin_user: User
) -> None:
    order, _a, _b, line_a, _line_b = two_line_order(staff_user)
    other = place()
    [other_line] = queries.order_lines(other)

    for lines, extra in [
        ((RefundLineInput(other_line.id, 1),), {}),
        ((RefundLineInput(line_a.id, 1), RefundLineInput(line_a.id, 1)), {}),
        ((RefundLineInput(line_a.id, 0),), {}),
        ((RefundLineInput(line_a.id, 1),), {"amount": money(100)}),
    ]:
        with pytest.raises(InvalidOrderInput):
            refund(order, admin_user, "refund-bad-input", *lines, **extra)

    assert refund_count() == (0, 0)


def test_an_amount_refund_records_no_lines_and_puts_nothing_back_in_stock(
    app: Flask, staff_user: User, admin_user: User
) -> None:
    order, variant_a, variant_b, line_a, _line_b = two_line_order(staff_user)

    outcome = services.refund_order(
        order.number, money(500), idempotency_key="refund-amount-1", actor_user_id=admin_user.id
    )

    assert (outcome.amount, outcome.stock_returned) == (money(500), False)
    assert (stock(variant_a), stock(variant_b)) == (8, 9)
    [made] = queries.order_refunds(order)
    assert (made.amount_minor, made.lines, made.is_by_lines) == (500, [], False)
    # and lines are still refundable by units, within what the payment has left
    with pytest.raises(RefundExceedsPayment):
        services.refund_order(
            order.number,
            money(3301),
            idempotency_key="refund-amount-2",
            actor_user_id=admin_user.id,
        )
    again = refund(order, admin_user, "refund-amount-3", RefundLineInput(line_a.id, 2, True))
    assert (again.amount, stock(variant_a)) == (money(2171), 10)


def test_units_already_back_in_stock_cannot_be_restocked_again(
    app: Flask, staff_user: User, admin_user: User
) -> None:
    # given both units of A already put back against the order (a return recorded by hand)
    order, variant_a, _b, line_a, _line_b = two_line_order(staff_user)
    inventory.return_stock(order.number, {variant_a.id: 2}, reason="returned")

    # when a refund of A asks to restock them again
    with pytest.raises(InvalidOrderInput) as refused:
        refund(order, admin_user, "refund-restock-1", RefundLineInput(line_a.id, 1, True))

    # then it is refused and nothing changed; without restocking it goes through
    assert refused.value.fields == {
        f"lines.{line_a.id}": ["At most 0 of these units can go back to stock."]
    }
    assert (stock(variant_a), refund_count()) == (10, (0, 0))
    assert refund(order, admin_user, "refund-restock-2", RefundLineInput(line_a.id, 1)).amount == (
        money(1086)
    )
    assert stock(variant_a) == 10


def test_the_same_key_refunds_once_and_another_request_under_it_is_refused(
    app: Flask, staff_user: User, admin_user: User
) -> None:
    order, variant_a, _b, line_a, line_b = two_line_order(staff_user)

    first = refund(order, admin_user, "refund-same-key", RefundLineInput(line_a.id, 1, True))
    replay = refund(order, admin_user, "refund-same-key", RefundLineInput(line_a.id, 1, True))
    with pytest.raises(PaymentIdempotencyKeyReused):
        refund(order, admin_user, "refund-same-key", RefundLineInput(line_b.id, 1))

    assert (replay.amount, replay.refund_id, replay.stock_returned) == (
        money(0),
        first.refund_id,
        False,
    )
    assert (stock(variant_a), refund_count()) == (9, (1, 1))


def test_the_refund_email_lists_the_refunded_lines(
    app: Flask, staff_user: User, admin_user: User, mailbox: Mailbox
) -> None:
    order, _a, _b, line_a, _line_b = two_line_order(staff_user)
    mailbox.clear()

    refund(order, admin_user, "refund-email-01", RefundLineInput(line_a.id, 2), shipping=True)

    [message] = mailbox
    body = mailbox.body(message)
    assert "We have refunded $27.14" in body
    item = f"{line_a.product_title} ({line_a.variant_label}), {line_a.sku}"
    assert f"- 2 \u00d7 {item}: $21.71" in body
    assert "- Shipping (Standard delivery): $5.43" in body


def test_an_unshipped_order_refunded_by_lines_in_full_returns_its_units_and_is_refunded(
    app: Flask, staff_user: User, admin_user: User
) -> None:
    order, variant_a, variant_b, line_a, line_b = two_line_order(staff_user, shipped=False)

    outcome = refund(
        order,
        admin_user,
        "refund-unshipped",
        RefundLineInput(line_a.id, 2, True),
        RefundLineInput(line_b.id, 1, True),
        shipping=True,
    )

    assert (outcome.amount, outcome.change.status) == (money(3800), OrderStatus.REFUNDED)
    assert (stock(variant_a), stock(variant_b)) == (10, 10)
    assert inventory_queries.ledger_discrepancies() == []
