"""US-26: a customer asks to return items of a delivered order, within the return window."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from funnel.accounts.models import User
from funnel.core import clock
from funnel.orders import queries
from funnel.settings.queries import current_settings
from tests.factories.accounts import UserFactory
from tests.orders.helpers import order_in
from tests.returns.helpers import delivered_order, lines_of, returns_state
from tests.support.mailbox import Mailbox
from tests.support.staff_pages import field_error


def _form(lines: dict[int, int], reason: str = "Too small", key: str = "") -> dict[str, str]:
    data = {f"return-quantity-{line_id}": str(units) for line_id, units in lines.items()}
    data["reason"] = reason
    if key:
        data["request_key"] = key
    return data


def _line_error(page: str, line_id: int) -> str:
    match = re.search(
        rf'<small id="return-quantity-{line_id}-error" class="field-error">([^<]*)<', page
    )
    return match.group(1) if match else ""


@pytest.mark.story("US-26")
def test_the_owner_requests_a_return_and_sees_it_on_the_order_page(
    customer: User, signed_in, mailbox: Mailbox
) -> None:
    # given a delivered order of the signed-in customer
    order = delivered_order(customer)
    first, second = lines_of(order)
    browser = signed_in(customer)
    page = browser.get(f"/account/orders/{order.number}").text
    assert 'id="return-form"' in page
    mailbox.clear()

    # when they ask to return one unit of the first line
    response = browser.post(
        f"/account/orders/{order.number}/returns", data=_form({first.id: 1, second.id: 0})
    )

    # then the return is numbered after the order and shown as requested
    assert response.status_code == 303
    number = f"{order.number}-R1"
    assert returns_state() == [(number, "requested", "", None), (first.id, 1, 0)]
    page = browser.get(f"/account/orders/{order.number}").text
    assert number in page
    assert "Requested" in page
    # and the customer is emailed
    [message] = mailbox
    assert (message["To"], message["Subject"]) == (
        customer.email,
        f"Order {order.number}: we have your return request",
    )
    assert number in mailbox.body(message)


@pytest.mark.story("US-26")
def test_a_return_outside_the_window_is_refused_beside_the_form(
    customer: User, signed_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an order delivered 31 days ago, in a shop with a 30-day window
    order = delivered_order(customer)
    [first, _] = lines_of(order)
    assert current_settings().return_window_days == 30
    delivered_at = queries.get_order(order.number).delivered_at
    monkeypatch.setattr(clock, "utcnow", lambda: delivered_at + timedelta(days=30, minutes=1))
    browser = signed_in(customer)

    # when the customer asks to return an item
    response = browser.post(f"/account/orders/{order.number}/returns", data=_form({first.id: 1}))

    # then it is refused with the reason, and nothing is written
    assert response.status_code == 422
    closes = (delivered_at + timedelta(days=30)).strftime("%d %B %Y")
    assert f"The return window closed on {closes}, 30 days after delivery." in response.text
    assert returns_state() == []
    # and the page offers no return form any more, but says why
    page = browser.get(f"/account/orders/{order.number}").text
    assert 'id="return-form"' not in page
    assert f"The return window closed on {closes}, 30 days after delivery." in page


@pytest.mark.story("US-26")
def test_on_the_last_day_of_the_window_a_return_is_taken(
    customer: User, signed_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = delivered_order(customer)
    [first, _] = lines_of(order)
    delivered_at = queries.get_order(order.number).delivered_at
    monkeypatch.setattr(clock, "utcnow", lambda: delivered_at + timedelta(days=30))

    response = signed_in(customer).post(
        f"/account/orders/{order.number}/returns", data=_form({first.id: 2})
    )

    assert response.status_code == 303
    assert returns_state() == [(f"{order.number}-R1", "requested", "", None), (first.id, 2, 0)]


@pytest.mark.story("US-26")
def test_units_already_requested_or_refunded_cannot_be_requested_again(
    customer: User, signed_in, admin_user: User
) -> None:
    # given a return of 1 of the 2 units of the first line, and a refund of the second line
    from funnel.orders import services

    order = delivered_order(customer)
    first, second = lines_of(order)
    browser = signed_in(customer)
    browser.post(f"/account/orders/{order.number}/returns", data=_form({first.id: 1}))
    services.refund_order(
        order.number,
        idempotency_key="refund-second-line",
        actor_user_id=admin_user.id,
        lines=[services.RefundLineInput(second.id, 1)],
    )
    before = returns_state()

    # when the customer asks for 2 more units of the first line and the refunded one
    response = browser.post(
        f"/account/orders/{order.number}/returns", data=_form({first.id: 2, second.id: 1})
    )

    # then each line says what is left, and nothing is written
    assert response.status_code == 422
    assert _line_error(response.text, first.id) == (
        "Only 1 of this item can be returned: the rest is already returned, refunded or in "
        "a return request."
    )
    assert _line_error(response.text, second.id) == (
        "This item is already returned, refunded or in a return request."
    )
    assert returns_state() == before


@pytest.mark.story("US-26")
@pytest.mark.parametrize(
    ("lines", "reason", "field", "message"),
    [
        ({}, "Too small", "return-lines", "Choose at least one item to return."),
        (None, "", "return-reason", "Tell us why you are returning these items."),
        (None, "x" * 501, "return-reason", "At most 500 characters."),
    ],
)
def test_a_request_without_items_or_reason_is_refused(
    customer: User, signed_in, lines, reason: str, field: str, message: str
) -> None:
    order = delivered_order(customer)
    [first, _] = lines_of(order)

    response = signed_in(customer).post(
        f"/account/orders/{order.number}/returns",
        data=_form({first.id: 1} if lines is None else lines, reason),
    )

    assert response.status_code == 422
    if field == "return-lines":
        assert message in response.text
    else:
        assert field_error(response.text, field) == message
    assert returns_state() == []


@pytest.mark.story("US-26")
def test_an_order_not_yet_delivered_takes_no_return(customer: User, signed_in) -> None:
    from funnel.orders.models import OrderStatus

    staff = UserFactory(role="staff")
    order = order_in(OrderStatus.FULFILLED, staff.id, email=customer.email, user_id=customer.id)
    [line] = lines_of(order)
    browser = signed_in(customer)
    assert 'id="return-form"' not in browser.get(f"/account/orders/{order.number}").text

    response = browser.post(f"/account/orders/{order.number}/returns", data=_form({line.id: 1}))

    assert response.status_code == 422
    assert "Items can be returned once the order is delivered." in response.text
    assert returns_state() == []


@pytest.mark.story("US-26")
def test_another_customers_order_is_404_and_nothing_is_written(customer: User, signed_in) -> None:
    other = UserFactory(email="other@example.com")
    order = delivered_order(other)
    [first, _] = lines_of(order)

    response = signed_in(customer).post(
        f"/account/orders/{order.number}/returns", data=_form({first.id: 1})
    )

    assert response.status_code == 404
    assert returns_state() == []


@pytest.mark.story("US-26")
def test_a_double_submit_asks_once(customer: User, signed_in, mailbox: Mailbox) -> None:
    order = delivered_order(customer)
    [first, _] = lines_of(order)
    browser = signed_in(customer)
    mailbox.clear()

    for _ in range(2):
        response = browser.post(
            f"/account/orders/{order.number}/returns",
            data=_form({first.id: 1}, key="one-time-token-1234567890"),
        )
        assert response.status_code == 303

    assert returns_state() == [(f"{order.number}-R1", "requested", "", None), (first.id, 1, 0)]
    assert len(mailbox) == 1


@pytest.mark.story("US-26")
def test_a_guest_requests_a_return_through_their_order_link(
    client: FlaskClient, mailbox: Mailbox
) -> None:
    from funnel.orders.links import access_key

    order = delivered_order(email="guest@example.com")
    [first, _] = lines_of(order)
    key = access_key(order.number)
    assert 'id="return-form"' in client.get(f"/orders/{order.number}?key={key}").text
    mailbox.clear()

    wrong = client.post(f"/orders/{order.number}/returns?key=nope", data=_form({first.id: 1}))
    assert wrong.status_code == 404
    assert returns_state() == []

    response = client.post(f"/orders/{order.number}/returns?key={key}", data=_form({first.id: 1}))

    assert response.status_code == 303
    assert response.headers["Location"] == f"/orders/{order.number}?key={key}"
    assert returns_state() == [(f"{order.number}-R1", "requested", "", None), (first.id, 1, 0)]
    [message] = mailbox
    assert message["To"] == "guest@example.com"
