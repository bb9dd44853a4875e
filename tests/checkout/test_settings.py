"""US-58: what staff save on the settings page is what the next checkout charges and the next
order email says."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from funnel.accounts.models import User
from funnel.orders.numbers import ALPHABET, normalise_number
from tests.checkout.helpers import ADDRESS, add_to_cart, go_to_pay, orders, pay, submit_token_of
from tests.settings.helpers import save
from tests.support.mailbox import Mailbox

pytestmark = pytest.mark.story("US-58")


def test_the_next_quote_and_order_email_use_the_saved_settings(
    client: FlaskClient, mug: Any, admin_user: User, signed_in, mailbox: Mailbox
) -> None:
    # given an admin who changes the standard price, the UK rate, the bank details, the name
    # and the order number prefix
    response = save(
        signed_in(admin_user),
        shop_name="Corner Shop",
        shipping_methods__0__price="7.00",
        tax_rates__2__rate="10",
        bank_transfer_details="IBAN GB33 BUKB 2020 1555 5555 55, Corner Shop Ltd",
        order_number_prefix="cs-",
    )
    assert response.status_code == 303

    # when a guest buys 2 mugs (24.00) shipped to the UK and pays by bank transfer
    add_to_cart(client, mug, 2)
    go_to_pay(client, address={**ADDRESS, "country_code": "GB"})
    page = client.get("/checkout/pay").text
    pay(client, submit_token_of(page), None, gateway="manual")

    # then the quote and the order use the new price and rate: 7.00 shipping, 10 % of 31.00
    assert "$7.00" in page
    assert "$34.10" in page
    [order] = orders()
    assert (order.shipping_minor, order.tax_minor, order.total_minor) == (700, 310, 3410)
    assert re.fullmatch(rf"CS-[{ALPHABET}]{{8}}", order.number)
    # and the email names the shop and gives the new bank details
    [message] = mailbox
    assert message["Subject"] == f"Order {order.number}: awaiting your bank transfer"
    body = mailbox.body(message)
    assert "IBAN GB33 BUKB 2020 1555 5555 55, Corner Shop Ltd" in body
    assert "Corner Shop" in body.replace("Corner Shop Ltd", "")


def test_numbers_typed_without_the_prefix_take_the_current_one_and_old_ones_stay() -> None:
    assert normalise_number("cs 7k3qx9md", "CS-") == "CS-7K3QX9MD"
    assert normalise_number("7K3QX9MO", "CS-") == "CS-7K3QX9M0"
    assert normalise_number("fn-7k3qx9md", "CS-") == "FN-7K3QX9MD"
    assert normalise_number("C S-7K3QX9MU", "CS-") is None
    assert normalise_number("TOOLONG1-7K3QX9MD", "CS-") is None
