"""Bank transfer is offered only with the shop's bank account, and then shows it everywhere
the customer looks for it: the confirmation page, their order page and the email."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from funnel.orders.links import access_key
from tests.checkout.helpers import go_to_pay, orders, path_of, pay
from tests.checkout.test_api import filled_guest_cart, start
from tests.factories.inventory import stocked_variant
from tests.support.api import problem
from tests.support.api_carts import CHECKOUTS

BANK_DETAILS_HTML = (
    '<dl id="bank-transfer-details">\n'
    "  <dt>Amount</dt><dd>{amount}</dd>\n"
    "  <dt>Payment reference</dt><dd>{number}</dd>\n"
    "  \n"
    "  <dt>Account holder</dt><dd>Funnel Test Ltd</dd>\n"
    "  <dt>IBAN or account number</dt><dd>GB33 BUKB 2020 1555 5555 55</dd>\n"
    "  <dt>BIC or sort code</dt><dd>BUKBGB22</dd>\n"
    "  <dt>Bank</dt><dd>Barclays</dd>\n"
)


@pytest.mark.story("US-22")
@pytest.mark.config(BANK_ACCOUNT="")
def test_without_a_bank_account_bank_transfer_is_not_offered_anywhere(
    buyer: FlaskClient, mug: Any
) -> None:
    # given a shop with bank transfer enabled but no bank account, a guest at the pay step
    token = go_to_pay(buyer)

    # then the pay page and the API offer only the card
    page = buyer.get("/checkout/pay").get_data(as_text=True)
    assert 'value="test"' in page
    assert 'value="manual"' not in page
    assert "Bank transfer" not in page
    methods = buyer.get("/api/v1/payment-methods").get_json()
    assert methods == {"items": [{"code": "test", "label": "Card (test gateway)"}]}

    # and a form sent with bank transfer all the same is refused, nothing placed
    refused = pay(buyer, token, None, gateway="manual")
    assert refused.status_code == 422
    assert "The payment method &#39;manual&#39; is not available." in refused.get_data(as_text=True)
    assert orders() == []


@pytest.mark.story("US-22")
@pytest.mark.config(BANK_ACCOUNT="")
def test_without_a_bank_account_the_api_refuses_a_bank_transfer(client: FlaskClient) -> None:
    # given a checkout over the API in a shop without a bank account
    cart_id, headers = filled_guest_cart(client, stocked_variant(1))
    checkout = start(client, cart_id, headers)

    # when it is completed with bank transfer
    response = client.post(
        f"{CHECKOUTS}/{checkout['id']}/complete",
        json={"payment_method": "manual"},
        headers=headers,
    )

    # then it is a 422 naming the method, and no order is placed
    body = problem(response, 422, "gateway_not_enabled")
    assert body["detail"] == "The payment method 'manual' is not available."
    assert orders() == []


@pytest.mark.story("US-22")
def test_with_a_bank_account_bank_transfer_is_offered(buyer: FlaskClient, mug: Any) -> None:
    go_to_pay(buyer)

    page = buyer.get("/checkout/pay").get_data(as_text=True)
    methods = buyer.get("/api/v1/payment-methods").get_json()

    assert 'value="manual"' in page
    assert methods == {
        "items": [
            {"code": "test", "label": "Card (test gateway)"},
            {"code": "manual", "label": "Bank transfer"},
        ]
    }


@pytest.mark.story("US-22")
@pytest.mark.config(BANK_TRANSFER_DETAILS="Transfers from abroad: add the fee.")
def test_the_confirmation_and_the_order_page_give_the_bank_account_amount_and_reference(
    buyer: FlaskClient, mug: Any
) -> None:
    # when a guest pays by bank transfer
    response = pay(buyer, go_to_pay(buyer), None, gateway="manual")
    [order] = orders()
    expected = BANK_DETAILS_HTML.format(amount="$34.79", number=order.number)

    # then the confirmation page gives the account, the amount and the reference
    confirmation = buyer.get(path_of(response)).get_data(as_text=True)
    assert "Our bank details are below; we have sent them to guest@example.com too." in (
        confirmation
    )
    assert "on the order page" not in confirmation
    assert expected in confirmation
    assert "<p>Transfers from abroad: add the fee.</p>" in confirmation

    # and so does the order's page, while it awaits the transfer
    order_page = buyer.get(f"/orders/{order.number}?key={access_key(order.number)}")
    assert expected in order_page.get_data(as_text=True)
