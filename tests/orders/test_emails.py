"""Order emails over real SMTP: plain text and HTML, lines, totals, address and a link."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts.models import User
from funnel.core.database import transaction
from funnel.orders import services
from tests.factories.inventory import stocked_variant
from tests.factories.orders import address, pay_by_card, place
from tests.support.mailbox import Mailbox


def link_in(text: str) -> str:
    [link] = re.findall(r"https?://\S+", text)
    return link


@pytest.mark.story("US-23", "US-50")
def test_the_confirmation_shows_lines_totals_address_and_a_guest_link(
    app: Flask, mailbox: Mailbox, client: FlaskClient
) -> None:
    # given a guest's order for 2 units at $10.00, $5.00 shipping, $3.00 tax, paid by card
    variant = stocked_variant(10)
    order = place([(variant, 2)], email="guest@example.com")
    pay_by_card(order)

    # then one confirmation went to the guest, in plain text and in HTML
    [message] = mailbox
    assert (message["To"], message["Subject"]) == (
        "guest@example.com",
        f"Order {order.number} confirmed",
    )
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    text = mailbox.body(message).replace("\r\n", "\n")
    assert f"Thank you for your order {order.number}" in text
    assert "- 2 \u00d7 Product" in text
    assert f"{variant.sku}: $10.00 each, $20.00" in text
    for expected in (
        "Subtotal: $20.00",
        "Shipping (Standard delivery): $5.00",
        "Tax (20%): $3.00",
        "Total: $28.00",
        "Shipping to:\nAnn Smith\n1 High Street\nFlat 2\nBristol\nBS1 4DJ\nBritain (UK)\n",
    ):
        assert expected in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<strong>$28.00</strong>" in html
    # and its link opens the guest's order page
    link = urlsplit(link_in(text))
    assert link.path == f"/orders/{order.number}"
    assert link.query.startswith("key=")
    page = client.get(f"{link.path}?{link.query}")
    assert page.status_code == 200
    assert f"Order {order.number}" in page.text


@pytest.mark.story("US-23")
def test_a_customer_is_sent_to_their_account_page(
    app: Flask, mailbox: Mailbox, customer: User
) -> None:
    order = place(email=customer.email, user_id=customer.id)
    pay_by_card(order)

    [message] = mailbox
    assert link_in(mailbox.body(message)) == (
        f"http://127.0.0.1:5000/account/orders/{order.number}"
    )


@pytest.mark.story("US-22")
@pytest.mark.config(BANK_TRANSFER_DETAILS="Transfers from abroad: add the fee.")
def test_a_bank_transfer_order_is_told_what_to_pay_and_where(app: Flask, mailbox: Mailbox) -> None:
    # given the checkout places a bank-transfer order and schedules the email in its transaction
    with transaction():
        order = place(gateway="manual")
        services.send_order_placed_email(order)
        # nothing is sent before the commit
        assert list(mailbox) == []

    # then the customer gets the amount, the reference and the shop's bank account
    [message] = mailbox
    assert message["Subject"] == f"Order {order.number}: awaiting your bank transfer"
    text = mailbox.body(message).replace("\r\n", "\n")
    assert (
        f"Please transfer $28.00 with the payment reference {order.number} to:\n\n"
        "Amount: $28.00\n"
        f"Payment reference: {order.number}\n"
        "Account holder: Funnel Test Ltd\n"
        "IBAN or account number: GB33 BUKB 2020 1555 5555 55\n"
        "BIC or sort code: BUKBGB22\n"
        "Bank: Barclays\n"
        "\n"
        "Transfers from abroad: add the fee.\n"
    ) in text
    assert "An order not paid within 7 days is cancelled." in text
    html = mailbox.html(message)
    assert '<th align="left">Account holder</th><td>Funnel Test Ltd</td>' in html
    assert (
        '<th align="left">IBAN or account number</th><td>GB33 BUKB 2020 1555 5555 55</td>'
    ) in html
    assert f'<th align="left">Payment reference</th><td>{order.number}</td>' in html
    assert '<th align="left">Amount</th><td>$28.00</td>' in html


@pytest.mark.story("US-23")
@pytest.mark.config(MAIL_SENDER="Corner Shop <help@corner.example>")
def test_every_order_email_ends_with_the_shops_contact_address(
    app: Flask, mailbox: Mailbox
) -> None:
    # given a card order (confirmation) and a bank-transfer order (placed)
    pay_by_card(place())
    with transaction():
        services.send_order_placed_email(place(gateway="manual"))

    # then both end with the shop's name and its contact address, in text and in HTML
    assert len(list(mailbox)) == 2
    for message in mailbox:
        assert (
            mailbox.body(message)
            .replace("\r\n", "\n")
            .endswith("Funnel\nQuestions? Write to us at help@corner.example\n")
        )
        assert (
            "<p>Funnel<br>Questions? Write to us at "
            '<a href="mailto:help@corner.example">help@corner.example</a></p>'
        ) in mailbox.html(message)


@pytest.mark.story("US-50")
def test_an_smtp_failure_does_not_undo_the_payment(app: Flask, mailbox: Mailbox) -> None:
    # given an SMTP server that cannot be reached
    app.config["MAIL_PORT"] = 1
    order = place()

    # when the order is marked paid
    pay_by_card(order)

    # then the order is paid all the same; nothing was delivered
    from funnel.orders import queries
    from funnel.orders.models import OrderStatus

    assert queries.get_order(order.number).status == OrderStatus.PAID
    assert list(mailbox) == []


@pytest.mark.story("US-23")
def test_the_confirmation_writes_the_address_as_its_country_does_with_the_country_named(
    app: Flask, mailbox: Mailbox
) -> None:
    # given an order shipped to San Francisco
    order = place(
        email="guest@example.com",
        shipping_address=address(
            line1="1 Market Street",
            line2="",
            city="San Francisco",
            region="CA",
            postal_code="94103",
            country_code="US",
        ),
    )

    # when it is paid
    pay_by_card(order)

    # then the email writes it the American way, with the country's name
    [message] = mailbox
    text = mailbox.body(message).replace("\r\n", "\n")
    assert "Shipping to:\nAnn Smith\n1 Market Street\nSan Francisco, CA 94103\nUnited States\n" in (
        text
    )
    html = message.get_body(preferencelist=("html",)).get_content()
    lines = re.findall(r"<address>(.*?)</address>", html, flags=re.DOTALL)
    assert [line.strip() for line in lines[0].split("<br>")] == [
        "Ann Smith",
        "1 Market Street",
        "San Francisco, CA 94103",
        "United States",
    ]
    assert ">US<" not in html
