"""The status workflow: every step from every status, allowed or refused, on each database."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from funnel.accounts.models import User
from funnel.core.errors import PermissionDenied
from funnel.orders import queries, services
from funnel.orders.errors import InvalidOrderTransition
from funnel.orders.models import Order, OrderStatus
from funnel.payments import queries as payment_queries
from funnel.payments.errors import NothingLeftToRefund
from tests.orders.helpers import order_in, statuses

S = OrderStatus

STEPS: dict[str, Callable[[Order, int], object]] = {
    "mark_paid": lambda order, staff: services.mark_paid(order.number, actor_user_id=staff),
    "fulfil": lambda order, staff: services.fulfil_order(order.number, actor_user_id=staff),
    "deliver": lambda order, staff: services.mark_delivered(order.number, actor_user_id=staff),
    "cancel": lambda order, staff: services.cancel_order(
        order.number, reason="out of stock", actor_user_id=staff
    ),
    "refund": lambda order, staff: services.refund_order(
        order.number, idempotency_key=f"{order.number}-matrix", actor_user_id=staff
    ),
}
# Steps that move money need ``orders.refund``: admins only by default.
MONEY_STEPS = {"refund", "cancel"}
# (status, step) -> the status after the step; "same" when the step was already taken (no
# change), None when it is refused with invalid_order_transition.
OUTCOMES: dict[tuple[OrderStatus, str], OrderStatus | str | None] = {
    (S.PENDING_PAYMENT, "mark_paid"): S.PAID,
    (S.PENDING_PAYMENT, "fulfil"): None,
    (S.PENDING_PAYMENT, "deliver"): None,
    (S.PENDING_PAYMENT, "cancel"): S.CANCELLED,
    (S.PENDING_PAYMENT, "refund"): None,
    (S.PAID, "mark_paid"): "same",
    (S.PAID, "fulfil"): S.FULFILLED,
    (S.PAID, "deliver"): None,
    (S.PAID, "cancel"): S.CANCELLED,
    (S.PAID, "refund"): S.REFUNDED,
    (S.FULFILLED, "mark_paid"): "same",
    (S.FULFILLED, "fulfil"): "same",
    (S.FULFILLED, "deliver"): S.DELIVERED,
    (S.FULFILLED, "cancel"): None,
    (S.FULFILLED, "refund"): S.REFUNDED,
    (S.DELIVERED, "mark_paid"): "same",
    (S.DELIVERED, "fulfil"): None,
    (S.DELIVERED, "deliver"): "same",
    (S.DELIVERED, "cancel"): None,
    (S.DELIVERED, "refund"): S.REFUNDED,
    (S.CANCELLED, "mark_paid"): None,
    (S.CANCELLED, "fulfil"): None,
    (S.CANCELLED, "deliver"): None,
    (S.CANCELLED, "cancel"): "same",
    (S.CANCELLED, "refund"): None,
    (S.REFUNDED, "mark_paid"): "same",
    (S.REFUNDED, "fulfil"): None,
    (S.REFUNDED, "deliver"): None,
    (S.REFUNDED, "cancel"): None,
    (S.REFUNDED, "refund"): "nothing left",
}


@pytest.mark.story("US-30")
@pytest.mark.parametrize(("status", "step"), list(OUTCOMES), ids=lambda value: str(value))
def test_every_step_from_every_status(
    app: Flask, staff_user: User, admin_user: User, status: OrderStatus, step: str
) -> None:
    # given an order brought to ``status`` through the services
    order = order_in(status, staff_user.id)
    history = statuses(order)
    expected = OUTCOMES[(status, step)]
    actor = admin_user if step in MONEY_STEPS else staff_user

    if expected is None:
        # when a step the status does not allow is tried, then it is refused, clearly
        with pytest.raises(InvalidOrderTransition) as raised:
            STEPS[step](order, actor.id)
        assert (raised.value.code, raised.value.status) == ("invalid_order_transition", 409)
        assert raised.value.detail.startswith(f"Order {order.number} is {status.label.lower()}")
        # and nothing changed
        assert queries.get_order(order.number).status == status
        assert statuses(order) == history
    elif expected == "nothing left":
        # when a refunded order is refunded again, then it says nothing is left, and nothing moves
        with pytest.raises(NothingLeftToRefund) as raised:
            STEPS[step](order, actor.id)
        assert (raised.value.code, raised.value.status) == ("nothing_left_to_refund", 409)
        assert statuses(order) == history
    elif expected == "same":
        # when a step already taken is repeated, then nothing changes
        result = STEPS[step](order, actor.id)
        assert (result.changed, result.status) == (False, status)
        assert statuses(order) == history
    else:
        # when an allowed step is taken, then the order moves and one event records it
        STEPS[step](order, actor.id)
        assert queries.get_order(order.number).status == expected
        assert statuses(order) == [*history, (status.value, expected.value)]


@pytest.mark.story("US-30")
def test_each_step_records_who_when_and_why(app: Flask, staff_user: User) -> None:
    order = order_in(S.PAID, staff_user.id)

    services.fulfil_order(order.number, actor_user_id=staff_user.id, note="DHL 123456")
    services.mark_delivered(order.number, actor_user_id=staff_user.id)

    events = queries.order_events(order)
    assert [(e.from_status, e.to_status, e.actor_user_id, e.note) for e in events] == [
        (None, "pending_payment", None, "placed"),
        ("pending_payment", "paid", None, "payment received"),
        ("paid", "fulfilled", staff_user.id, "DHL 123456"),
        ("fulfilled", "delivered", staff_user.id, ""),
    ]
    stored = queries.get_order(order.number)
    assert stored.paid_at <= stored.fulfilled_at <= stored.delivered_at
    assert stored.delivered_at == events[-1].created_at


@pytest.mark.story("US-30")
def test_a_customer_cannot_take_a_staff_step(app: Flask, staff_user: User, customer: User) -> None:
    order = order_in(S.PAID, staff_user.id)

    with pytest.raises(PermissionDenied):
        services.fulfil_order(order.number, actor_user_id=customer.id)

    assert queries.get_order(order.number).status == S.PAID


def test_the_transition_table_allows_exactly_the_workflow(app: Flask) -> None:
    from funnel.orders.models import TRANSITIONS

    allowed = {(a.value, b.value) for a, targets in TRANSITIONS.items() for b in targets}
    assert allowed == {
        ("pending_payment", "paid"),
        ("pending_payment", "cancelled"),
        ("paid", "fulfilled"),
        ("paid", "cancelled"),
        ("paid", "refunded"),
        ("fulfilled", "delivered"),
        ("fulfilled", "refunded"),
        ("delivered", "refunded"),
    }


@pytest.mark.story("US-25")
def test_a_customer_may_cancel_their_own_order_but_not_anothers(app: Flask, customer: User) -> None:
    from tests.factories.accounts import UserFactory

    mine = order_in(S.PENDING_PAYMENT, customer.id, email=customer.email, user_id=customer.id)
    other = UserFactory()
    theirs = order_in(S.PENDING_PAYMENT, other.id, email=other.email, user_id=other.id)

    with pytest.raises(PermissionDenied):
        services.cancel_order(theirs.number, reason="not mine", actor_user_id=customer.id)
    change = services.cancel_order(mine.number, reason="changed my mind", actor_user_id=customer.id)

    assert queries.get_order(theirs.number).status == S.PENDING_PAYMENT
    assert (change.changed, change.status) == (True, S.CANCELLED)
    assert queries.order_events(mine)[-1].actor_user_id == customer.id


@pytest.mark.story("US-28", "US-32")
@pytest.mark.parametrize("step", ["refund", "cancel"])
def test_staff_without_the_refund_permission_cannot_move_a_paid_orders_money(
    app: Flask, staff_user: User, step: str
) -> None:
    # given a paid order (cancelling it would refund it in full)
    order = order_in(S.PAID, staff_user.id)
    history = statuses(order)

    # when a staff member without orders.refund tries, then it is refused
    with pytest.raises(PermissionDenied) as raised:
        STEPS[step](order, staff_user.id)

    # and nothing changed: no status, no event, no money back
    assert raised.value.code == "permission_denied"
    assert queries.get_order(order.number).status == S.PAID
    assert statuses(order) == history
    assert payment_queries.live_payment_for(order.number).refunded_minor == 0
