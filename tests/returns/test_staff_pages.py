"""US-33: staff list return requests by status, approve or reject them with a note, receive
them (units back to stock) and refund them through the order's refund form, prefilled."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from funnel.accounts.models import Role, User
from funnel.accounts.permissions import ROLE_PERMISSIONS, Permission
from funnel.core import clock
from funnel.orders import queries, services
from funnel.orders.models import Order
from tests.audit.helpers import entries
from tests.factories.accounts import UserFactory
from tests.returns.helpers import delivered_order, lines_of, returned_movements, returns_state
from tests.support.mailbox import Mailbox


def _requested(order: Order, units: dict[int, int] | None = None, reason: str = "Too small") -> str:
    lines = lines_of(order)
    change = services.request_return(
        order.number, units or {lines[0].id: 2, lines[1].id: 1}, reason=reason
    )
    return change.number


def _entries_of(number: str) -> list[tuple[str, Any, Any]]:
    return [
        (entry["action"], entry["before"], entry["after"])
        for entry in entries()
        if entry["object"] == ("return", number)
    ]


@pytest.mark.story("US-33")
def test_the_list_shows_requested_returns_oldest_first(
    staff_user: User, signed_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given three returns requested a day apart, and one of them approved
    start = clock.utcnow()
    numbers = []
    for day in range(3):
        monkeypatch.setattr(clock, "utcnow", lambda day=day: start + timedelta(days=day))
        numbers.append(_requested(delivered_order()))
    monkeypatch.undo()
    services.move_return(numbers[1], "approved", actor_user_id=staff_user.id)
    browser = signed_in(staff_user)

    # when staff open the returns list (requested by default), and the approved ones
    requested = browser.get("/staff/returns").text
    approved = browser.get("/staff/returns?status=approved").text
    every = browser.get("/staff/returns?status=all").text

    # then each shows its returns, oldest first
    listed = re.compile(r'href="/staff/returns/([^"]+)"')
    assert listed.findall(requested) == [numbers[0], numbers[2]]
    assert listed.findall(approved) == [numbers[1]]
    assert listed.findall(every) == numbers
    assert "Requested (2)" in requested
    assert "Approved (1)" in requested


@pytest.mark.story("US-33")
def test_staff_approve_with_a_note_and_the_customer_is_emailed(
    staff_user: User, signed_in, mailbox: Mailbox
) -> None:
    order = delivered_order()
    number = _requested(order)
    browser = signed_in(staff_user)
    mailbox.clear()

    response = browser.post(f"/staff/returns/{number}/approve", data={"note": "Use the label"})

    assert response.status_code == 303
    assert returns_state()[0] == (number, "approved", "Use the label", None)
    [message] = mailbox
    assert message["Subject"] == f"Order {order.number}: your return is approved"
    assert "Our note: Use the label" in mailbox.body(message)
    assert _entries_of(number) == [
        (
            "return.approved",
            {"status": "requested"},
            {"status": "approved", "note": "Use the label"},
        )
    ]
    # a second click changes nothing and sends nothing
    again = browser.post(f"/staff/returns/{number}/approve", data={"note": "Again"})
    assert again.status_code == 303
    assert returns_state()[0] == (number, "approved", "Use the label", None)
    assert len(mailbox) == 1
    assert len(_entries_of(number)) == 1


@pytest.mark.story("US-33")
def test_rejecting_needs_a_note_which_the_customer_reads(
    staff_user: User, signed_in, mailbox: Mailbox
) -> None:
    order = delivered_order()
    number = _requested(order)
    browser = signed_in(staff_user)
    mailbox.clear()

    refused = browser.post(f"/staff/returns/{number}/reject", data={"note": " "})
    assert refused.status_code == 422
    assert "Tell the customer why the return is refused." in refused.text
    assert returns_state()[0] == (number, "requested", "", None)
    assert len(mailbox) == 0

    response = browser.post(f"/staff/returns/{number}/reject", data={"note": "Worn"})

    assert response.status_code == 303
    assert returns_state()[0] == (number, "rejected", "Worn", None)
    [message] = mailbox
    assert message["Subject"] == f"Order {order.number}: your return request is declined"
    assert "Our note: Worn" in mailbox.body(message)
    assert [action for action, _, _ in _entries_of(number)] == ["return.rejected"]
    # the units of a rejected return may be asked for again
    [first, _] = lines_of(order)
    assert _requested(order, {first.id: 2}) == f"{order.number}-R2"


@pytest.mark.story("US-33")
@pytest.mark.parametrize(
    ("status", "path"),
    [
        ("requested", "receive"),
        ("rejected", "approve"),
        ("rejected", "receive"),
        ("approved", "reject"),
    ],
)
def test_a_step_the_status_does_not_allow_is_409_and_changes_nothing(
    staff_user: User, signed_in, mailbox: Mailbox, status: str, path: str
) -> None:
    number = _requested(delivered_order())
    if status == "rejected":
        services.move_return(number, status, actor_user_id=staff_user.id, note="No")
    elif status == "approved":
        services.move_return(number, status, actor_user_id=staff_user.id)
    before = returns_state()
    mailbox.clear()

    response = signed_in(staff_user).post(f"/staff/returns/{number}/{path}", data={"note": "Why"})

    assert response.status_code == 409
    assert f"Return {number} is {status}: it cannot be" in response.text
    assert returns_state() == before
    assert len(mailbox) == 0


@pytest.mark.story("US-33")
def test_receiving_restocks_the_chosen_units_through_the_ledger(
    staff_user: User, signed_in, mailbox: Mailbox
) -> None:
    # given an approved return of 2 + 1 units
    order = delivered_order()
    first, second = lines_of(order)
    number = _requested(order)
    services.move_return(number, "approved", actor_user_id=staff_user.id)
    mailbox.clear()
    stock_before = {line.variant_id: _stock(line.variant_id) for line in (first, second)}

    # when staff mark it received with 1 unit of the first line back to stock, none of the other
    response = signed_in(staff_user).post(
        f"/staff/returns/{number}/receive",
        data={f"restock-{first.id}": "1", f"restock-{second.id}": "0"},
    )

    # then that unit is back in stock, with a ledger row "returned"
    assert response.status_code == 303
    assert _stock(first.variant_id) == stock_before[first.variant_id] + 1
    assert _stock(second.variant_id) == stock_before[second.variant_id]
    assert returned_movements(order) == [(first.variant_id, 1, "returned")]
    assert returns_state() == [
        (number, "received", "", None),
        (first.id, 2, 1),
        (second.id, 1, 0),
    ]
    [message] = mailbox
    assert message["Subject"] == f"Order {order.number}: we have received your return"
    assert _entries_of(number)[-1] == (
        "return.received",
        {"status": "approved"},
        {"status": "received", "note": "", "restocked": {str(first.id): 1}},
    )


@pytest.mark.story("US-33")
def test_restocking_more_than_returned_is_refused(staff_user: User, signed_in) -> None:
    order = delivered_order()
    first, _ = lines_of(order)
    number = _requested(order)
    services.move_return(number, "approved", actor_user_id=staff_user.id)
    before = returns_state()

    response = signed_in(staff_user).post(
        f"/staff/returns/{number}/receive", data={f"restock-{first.id}": "3"}
    )

    assert response.status_code == 422
    assert "A whole number of units from 0 to 2." in response.text
    assert returns_state() == before
    assert returned_movements(order) == []


@pytest.mark.story("US-32", "US-33")
def test_a_received_return_offers_the_refund_prefilled_and_becomes_refunded(
    staff_user: User, admin_user: User, signed_in, mailbox: Mailbox
) -> None:
    # given a received return of 2 + 1 units, 1 of them back in stock
    order = delivered_order()
    first, second = lines_of(order)
    number = _requested(order)
    services.move_return(number, "approved", actor_user_id=staff_user.id)
    services.move_return(number, "received", actor_user_id=staff_user.id, restock={first.id: 1})
    browser = signed_in(admin_user)

    # when an admin follows the return page's refund link
    page = browser.get(f"/staff/returns/{number}").text
    link = f"/staff/orders/{order.number}?return={number}#refund-form"
    assert f'href="{link}"' in page
    form = browser.get(link.split("#")[0]).text

    # then the order's refund form holds the return's units, none ticked back to stock
    assert re.search(rf'name="refund-quantity-{first.id}"[^>]*\n?\s*value="2"', form)
    assert re.search(rf'name="refund-quantity-{second.id}"[^>]*\n?\s*value="1"', form)
    assert f'<input type="hidden" name="return_number" value="{number}">' in form
    assert "checked" not in re.search(r'<form[^>]*id="refund-form".*?</form>', form, re.S).group(0)
    mailbox.clear()

    # when the admin submits it
    token = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    response = browser.post(
        f"/staff/orders/{order.number}/refund",
        data={
            "idempotency_key": token,
            f"refund-quantity-{first.id}": "2",
            f"refund-quantity-{second.id}": "1",
            "reason": f"Return {number}",
            "return_number": number,
        },
    )

    # then the order is refunded through the refund service, and the return is refunded,
    # linked to that refund, with no unit restocked twice
    assert response.status_code == 303
    [refund] = queries.order_refunds(queries.get_order(order.number))
    assert returns_state()[0] == (number, "refunded", "", refund.id)
    assert [(line.order_line_id, line.quantity, line.is_restocked) for line in refund.lines] == [
        (first.id, 2, False),
        (second.id, 1, False),
    ]
    assert returned_movements(order) == [(first.variant_id, 1, "returned")]
    subjects = sorted(message["Subject"] for message in mailbox)
    assert subjects == [
        f"Order {order.number}: refund issued",
        f"Order {order.number}: your return is refunded",
    ]
    assert _entries_of(number)[-1] == (
        "return.refunded",
        {"status": "received"},
        {"status": "refunded", "refund_id": refund.id},
    )
    # and a second submit of the same form refunds nothing more
    again = browser.post(
        f"/staff/orders/{order.number}/refund",
        data={
            "idempotency_key": token,
            f"refund-quantity-{first.id}": "2",
            f"refund-quantity-{second.id}": "1",
            "reason": f"Return {number}",
            "return_number": number,
        },
    )
    assert again.status_code == 303
    assert len(queries.order_refunds(queries.get_order(order.number))) == 1


@pytest.mark.story("US-33")
def test_a_return_not_yet_received_cannot_be_refunded_for(
    staff_user: User, admin_user: User
) -> None:
    from funnel.orders.errors import InvalidReturnTransition

    order = delivered_order()
    first, _ = lines_of(order)
    number = _requested(order)
    services.move_return(number, "approved", actor_user_id=staff_user.id)

    with pytest.raises(InvalidReturnTransition, match="is approved: it cannot be refunded"):
        services.refund_order(
            order.number,
            idempotency_key="refund-early",
            actor_user_id=admin_user.id,
            lines=[services.RefundLineInput(first.id, 2)],
            return_number=number,
        )

    assert queries.order_refunds(queries.get_order(order.number)) == []
    assert returns_state()[0] == (number, "approved", "", None)


def _stock(variant_id: int | None) -> int:
    from funnel.catalog.models import Variant
    from funnel.extensions import db

    db.session.expire_all()
    variant = db.session.get(Variant, variant_id)
    assert variant is not None
    return variant.stock_quantity


# --- who may reach the pages ----------------------------------------------------------------

PAGE_ROLES = ("anonymous", "customer", "staff_without_orders", "staff", "admin")


def _browser(role: str, client: FlaskClient, signed_in, monkeypatch: pytest.MonkeyPatch) -> Any:
    if role == "anonymous":
        return client
    if role == "staff_without_orders":
        monkeypatch.setitem(
            ROLE_PERMISSIONS,
            Role.STAFF,
            ROLE_PERMISSIONS[Role.STAFF] - {Permission.ORDERS_VIEW, Permission.ORDERS_FULFIL},
        )
        role = "staff"
    return signed_in(UserFactory(email=f"{role}-returns@example.com", role=Role(role)))


@pytest.mark.story("US-28", "US-33")
@pytest.mark.parametrize("role", PAGE_ROLES)
@pytest.mark.parametrize("page", ["list", "return", "approve", "reject", "receive"])
def test_return_pages_need_the_orders_permissions(
    client: FlaskClient, signed_in, monkeypatch: pytest.MonkeyPatch, role: str, page: str
) -> None:
    staff = UserFactory(role=Role.STAFF)
    number = _requested(delivered_order())
    if page == "receive":
        services.move_return(number, "approved", actor_user_id=staff.id)
    before = returns_state()
    browser = _browser(role, client, signed_in, monkeypatch)
    method, path = {
        "list": ("GET", "/staff/returns"),
        "return": ("GET", f"/staff/returns/{number}"),
        "approve": ("POST", f"/staff/returns/{number}/approve"),
        "reject": ("POST", f"/staff/returns/{number}/reject"),
        "receive": ("POST", f"/staff/returns/{number}/receive"),
    }[page]

    response = browser.open(path, method=method, data={"note": "Because"})

    if role == "anonymous":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/account/sign-in")
    elif role in {"customer", "staff_without_orders"}:
        assert response.status_code == 403
    elif method == "GET":
        assert response.status_code == 200
    else:
        assert response.status_code == 303
    if role in {"anonymous", "customer", "staff_without_orders"} or method == "GET":
        assert returns_state() == before
    else:
        assert returns_state() != before
