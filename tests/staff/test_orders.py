"""Staff order pages: who may see and act, each action through one service, bad input."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from funnel.accounts.models import Role, User
from funnel.catalog.models import Variant
from funnel.extensions import db
from funnel.inventory import queries as inventory_queries
from funnel.orders import queries
from funnel.orders.models import Order, OrderStatus
from funnel.payments import queries as payment_queries
from funnel.payments.models import PaymentStatus
from tests.factories.accounts import UserFactory
from tests.factories.inventory import stocked_variant
from tests.factories.orders import pay_by_card, place, start_bank_transfer
from tests.orders.helpers import refund_keys, statuses


def pages(order: Order) -> list[str]:
    return ["/staff/orders", "/staff/orders?status=paid&q=buyer", f"/staff/orders/{order.number}"]


ACTIONS = {
    "payment-received": {"note": "ref 1"},
    "fulfil": {"note": "DHL 1"},
    "deliver": {},
    "cancel": {"reason": "changed my mind"},
    "refund": {"idempotency_key": "k" * 24, "amount": "1.00"},
}


@pytest.mark.story("US-12", "US-30")
def test_a_visitor_is_sent_to_sign_in(app: Flask, client: FlaskClient) -> None:
    order = place()

    for path in pages(order):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/account/sign-in?next=%2Fstaff%2Forders")
    for action, form in ACTIONS.items():
        response = client.post(f"/staff/orders/{order.number}/{action}", data=form)
        assert response.status_code == 302
    assert statuses(order) == [(None, "pending_payment")]


@pytest.mark.story("US-12", "US-30")
def test_a_customer_gets_403_and_changes_nothing(app: Flask, customer: User, signed_in) -> None:
    order = place(email=customer.email, user_id=customer.id, gateway="manual")
    start_bank_transfer(order)
    browser = signed_in(customer)

    for path in pages(order):
        assert browser.get(path).status_code == 403
    for action, form in ACTIONS.items():
        assert browser.post(f"/staff/orders/{order.number}/{action}", data=form).status_code == 403
    assert statuses(order) == [(None, "pending_payment")]


@pytest.mark.story("US-12", "US-30")
@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admins_see_the_pages(
    app: Flask, staff_user: User, admin_user: User, signed_in, role: str
) -> None:
    order = place()
    browser = signed_in(staff_user if role == "staff" else admin_user)

    for path in pages(order):
        assert browser.get(path).status_code == 200


@pytest.mark.story("US-30")
def test_the_list_filters_by_status_and_searches_by_number_or_email(
    app: Flask, staff_user: User, signed_in
) -> None:
    variant = stocked_variant(50)
    awaiting = place([(variant, 1)], email="ann@example.com")
    paid = place([(variant, 1)], email="bob@example.com")
    pay_by_card(paid)
    browser = signed_in(staff_user)

    all_orders = browser.get("/staff/orders").text
    only_paid = browser.get("/staff/orders?status=paid").text
    by_email = browser.get("/staff/orders?q=ANN@").text
    by_number = browser.get(f"/staff/orders?q={awaiting.number.lower()}").text

    assert (awaiting.number in all_orders, paid.number in all_orders) == (True, True)
    assert (awaiting.number in only_paid, paid.number in only_paid) == (False, True)
    assert (awaiting.number in by_email, paid.number in by_email) == (True, False)
    assert (awaiting.number in by_number, paid.number in by_number) == (True, False)
    assert "1 order matching" in by_number


@pytest.mark.story("US-30")
def test_a_whole_email_address_finds_that_customers_orders_only(
    app: Flask, staff_user: User, signed_in
) -> None:
    # given Ann's order and Joann's, whose address contains Ann's
    variant = stocked_variant(50)
    ann = place([(variant, 1)], email="ann@example.com")
    joann = place([(variant, 1)], email="joann@example.com")
    browser = signed_in(staff_user)

    # when staff search Ann's whole address, and then a part of it
    whole = browser.get("/staff/orders", query_string={"q": " Ann@Example.com "}).text
    part = browser.get("/staff/orders", query_string={"q": "ann@example"}).text

    # then the whole address is Ann's orders only; a part still finds both
    assert (ann.number in whole, joann.number in whole) == (True, False)
    assert "1 order matching" in whole
    assert (ann.number in part, joann.number in part) == (True, True)


@pytest.mark.story("US-30")
def test_the_list_shows_fifty_a_page(app: Flask, staff_user: User, signed_in) -> None:
    variant = stocked_variant(100)
    for _ in range(51):
        place([(variant, 1)])
    browser = signed_in(staff_user)

    first = browser.get("/staff/orders").text
    second = browser.get("/staff/orders?page=2").text

    assert first.count('href="/staff/orders/FN-') == 50
    assert second.count('href="/staff/orders/FN-') == 1
    assert "Page 1 of 2" in first


@pytest.mark.story("US-30", "US-44")
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/staff/orders?status=lost", 422),
        ("/staff/orders?page=-1", 400),
        ("/staff/orders/FN-00000000", 404),
        ("/staff/orders/not-a-number", 404),
    ],
)
def test_bad_list_input_is_a_clear_4xx(
    app: Flask, staff_user: User, signed_in, path: str, status: int
) -> None:
    assert signed_in(staff_user).get(path).status_code == status


@pytest.mark.story("US-30")
def test_the_detail_page_offers_only_the_allowed_steps(
    app: Flask, admin_user: User, signed_in
) -> None:
    order = place()
    pay_by_card(order)

    text = signed_in(admin_user).get(f"/staff/orders/{order.number}").text

    assert f'action="/staff/orders/{order.number}/shipments"' in text
    assert f'action="/staff/orders/{order.number}/cancel"' in text
    assert f'action="/staff/orders/{order.number}/refund"' in text
    assert f'action="/staff/orders/{order.number}/deliver"' not in text
    assert f'action="/staff/orders/{order.number}/payment-received"' not in text
    assert "left to refund: $28.00" in text


@pytest.mark.story("US-28", "US-32")
def test_staff_without_the_refund_permission_are_not_offered_refunds_and_are_refused_them(
    app: Flask, staff_user: User, signed_in
) -> None:
    # given a paid order (cancelling it would refund it in full)
    order = place()
    pay_by_card(order)
    browser = signed_in(staff_user)

    # when a staff member (no orders.refund) opens it, then only shipping is offered
    text = browser.get(f"/staff/orders/{order.number}").text
    assert f'action="/staff/orders/{order.number}/shipments"' in text
    assert f'action="/staff/orders/{order.number}/refund"' not in text
    assert f'action="/staff/orders/{order.number}/cancel"' not in text

    # and posting the forms anyway is refused with 403, changing nothing
    refund = browser.post(f"/staff/orders/{order.number}/refund", data=ACTIONS["refund"])
    cancel = browser.post(f"/staff/orders/{order.number}/cancel", data=ACTIONS["cancel"])
    assert (refund.status_code, cancel.status_code) == (403, 403)
    assert "orders.refund" in refund.text
    assert statuses(order) == [(None, "pending_payment"), ("pending_payment", "paid")]
    assert payment_queries.live_payment_for(order.number).refunded_minor == 0


@pytest.mark.story("US-31")
def test_staff_record_a_bank_transfer(app: Flask, staff_user: User, signed_in) -> None:
    order = place(gateway="manual")
    transfer = start_bank_transfer(order)
    browser = signed_in(staff_user)
    assert "payment-received" in browser.get(f"/staff/orders/{order.number}").text

    response = browser.post(
        f"/staff/orders/{order.number}/payment-received",
        data={"amount_received": "28.00", "note": "Barclays 77"},
    )

    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/orders/{order.number}"
    assert queries.get_order(order.number).status == OrderStatus.PAID
    assert payment_queries.get_payment(transfer.payment_id).status == PaymentStatus.SUCCEEDED
    assert "Payment recorded: the order is paid." in browser.get(response.headers["Location"]).text


@pytest.mark.story("US-31")
def test_a_wrong_amount_received_is_refused_with_a_422_page(
    app: Flask, staff_user: User, signed_in
) -> None:
    order = place(gateway="manual")
    start_bank_transfer(order)

    response = signed_in(staff_user).post(
        f"/staff/orders/{order.number}/payment-received", data={"amount_received": "27.99"}
    )

    assert response.status_code == 422
    assert "$27.99 received, $28.00 still due: confirm it as a partial payment" in response.text
    assert queries.get_order(order.number).status == OrderStatus.PENDING_PAYMENT


@pytest.mark.story("US-30")
def test_staff_ship_then_deliver(app: Flask, staff_user: User, signed_in) -> None:
    order = place()
    pay_by_card(order)
    browser = signed_in(staff_user)

    shipped = browser.post(
        f"/staff/orders/{order.number}/fulfil", data={"carrier": "dhl", "tracking_number": "JD42"}
    )
    delivered = browser.post(f"/staff/orders/{order.number}/deliver")

    assert (shipped.status_code, delivered.status_code) == (303, 303)
    assert statuses(order)[2:] == [("paid", "fulfilled"), ("fulfilled", "delivered")]
    assert [event.actor_user_id for event in queries.order_events(order)[2:]] == [
        staff_user.id,
        staff_user.id,
    ]


@pytest.mark.story("US-30")
def test_an_invalid_step_shows_a_message_and_changes_nothing(
    app: Flask, staff_user: User, signed_in
) -> None:
    order = place()

    response = signed_in(staff_user).post(f"/staff/orders/{order.number}/deliver")

    assert response.status_code == 409
    assert (
        f"Order {order.number} is awaiting payment: it cannot be marked delivered." in response.text
    )
    assert statuses(order) == [(None, "pending_payment")]


@pytest.mark.story("US-25", "US-30")
def test_staff_cancel_with_a_reason(app: Flask, staff_user: User, signed_in) -> None:
    variant = stocked_variant(10)
    order = place([(variant, 2)])
    browser = signed_in(staff_user)

    no_reason = browser.post(f"/staff/orders/{order.number}/cancel", data={"reason": " "})
    cancelled = browser.post(f"/staff/orders/{order.number}/cancel", data={"reason": "fraud"})
    again = browser.post(f"/staff/orders/{order.number}/cancel", data={"reason": "fraud"})

    assert no_reason.status_code == 422
    assert (cancelled.status_code, again.status_code) == (303, 303)
    assert "The order was already cancelled." in browser.get(again.headers["Location"]).text
    assert statuses(order) == [(None, "pending_payment"), ("pending_payment", "cancelled")]
    assert inventory_queries.order_net_quantities(order.number) == {variant.id: 0}


@pytest.mark.story("US-32")
def test_staff_refund_part_then_the_rest_once_each(app: Flask, admin_user: User, signed_in) -> None:
    variant = stocked_variant(10)
    order = place([(variant, 2)])
    pay_by_card(order)
    browser = signed_in(admin_user)
    form = {"amount": "8.00", "reason": "late", "idempotency_key": "a" * 24}

    first = browser.post(f"/staff/orders/{order.number}/refund", data=form)
    double_submit = browser.post(f"/staff/orders/{order.number}/refund", data=form)
    rest = browser.post(
        f"/staff/orders/{order.number}/refund",
        data={"amount": "", "idempotency_key": "b" * 24},
    )

    assert [r.status_code for r in (first, double_submit, rest)] == [303, 303, 303]
    assert "This refund was already made." in browser.get(double_submit.headers["Location"]).text
    payment = payment_queries.live_payment_for(order.number)
    assert (payment.status, payment.refunded_minor) == (PaymentStatus.REFUNDED, 2800)
    assert queries.get_order(order.number).status == OrderStatus.REFUNDED
    # refunds of an amount put nothing back in stock: only chosen lines go back
    assert inventory_queries.order_net_quantities(order.number) == {variant.id: 2}
    # stored for good: a retry after a deploy must find the first attempt
    assert refund_keys(order) == ["order-refund-" + "a" * 24, "order-refund-" + "b" * 24]


@pytest.mark.story("US-32", "US-44")
@pytest.mark.parametrize(
    "form",
    [
        {"amount": "abc", "idempotency_key": "c" * 24},
        {"amount": "1.001", "idempotency_key": "c" * 24},
        {"amount": "1e9", "idempotency_key": "c" * 24},
        {"amount": "-5", "idempotency_key": "c" * 24},
        {"amount": "0", "idempotency_key": "c" * 24},
        {"amount": "28.01", "idempotency_key": "c" * 24},
        {"amount": "1.00", "idempotency_key": "short"},
        {"amount": "1.00"},
        {"amount": "1.00", "idempotency_key": "c" * 24, "reason": "x" * 501},
    ],
)
def test_bad_refund_input_is_a_422_page_and_refunds_nothing(
    app: Flask, admin_user: User, signed_in, form: dict
) -> None:
    order = place()
    pay_by_card(order)

    response = signed_in(admin_user).post(f"/staff/orders/{order.number}/refund", data=form)

    assert response.status_code == 422
    assert f"<h1>Order {order.number}</h1>" in response.text
    assert payment_queries.live_payment_for(order.number).refunded_minor == 0
    assert queries.get_order(order.number).status == OrderStatus.PAID


@pytest.mark.story("US-32")
def test_refunding_a_fully_refunded_order_says_nothing_is_left(
    app: Flask, admin_user: User, signed_in
) -> None:
    order = place()
    pay_by_card(order)
    browser = signed_in(admin_user)
    url = f"/staff/orders/{order.number}/refund"
    browser.post(url, data={"amount": "", "idempotency_key": "d" * 24})

    again = browser.post(url, data={"amount": "", "idempotency_key": "e" * 24})

    assert again.status_code == 409
    assert "<strong>Nothing is left to refund</strong>" in again.text
    assert payment_queries.live_payment_for(order.number).refunded_minor == 2800


@pytest.mark.story("US-32", "US-29")
@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("customer", 403), ("staff", 403), ("refunds", 303), ("admin", 303)],
)
def test_a_line_refund_from_the_form_by_whom(
    app: Flask, customer: User, staff_user: User, admin_user: User, signed_in, who: str, status: int
) -> None:
    # given a paid order of 2 units bought by the customer
    variant = stocked_variant(10)
    order = place([(variant, 2)], email=customer.email, user_id=customer.id)
    pay_by_card(order)
    [line] = queries.order_lines(order)
    users = {
        "customer": customer,
        "staff": staff_user,
        "admin": admin_user,
        "refunds": UserFactory(role=Role.STAFF, permission_groups="refunds"),
    }
    browser = app.test_client() if who == "anonymous" else signed_in(users[who])
    form = {
        "idempotency_key": "l" * 24,
        f"refund-quantity-{line.id}": "1",
        f"refund-restock-{line.id}": "yes",
        "reason": "came back",
    }

    # when they refund one unit back to stock from the order page's form
    response = browser.post(f"/staff/orders/{order.number}/refund", data=form)

    # then only staff holding orders.refund refund it ($11.20: price and share of the tax)
    assert response.status_code == status
    stock = db.session.scalar(select(Variant.stock_quantity).where(Variant.id == variant.id))
    refunded = payment_queries.live_payment_for(order.number).refunded_minor
    if status != 303:
        assert (refunded, stock, queries.order_refunds(order)) == (0, 8, [])
        return
    assert (refunded, stock) == (1120, 9)
    assert (
        "Refunded $11.20. The chosen items are back in stock."
        in browser.get(response.headers["Location"]).text
    )
    # and the staff and customer order pages list the refund line by line
    staff_page = signed_in(admin_user).get(f"/staff/orders/{order.number}").text
    customer_page = signed_in(customer).get(f"/account/orders/{order.number}").text
    for page in (staff_page, customer_page):
        assert 'id="order-refunds-heading"' in page
        assert f"1 \u00d7 {line.product_title}" in page
        assert f"· {line.sku}: $11.20 · returned" in page
    assert f'name="refund-quantity-{line.id}" type="number" min="0" max="1"' in staff_page
