"""The pay page on a phone, in a real browser: choosing bank transfer hides the card fields
(a small script; without it they stay, and the shop ignores them for a bank transfer)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.problems import PageProblems
from tests.e2e.test_checkout import add_a_product_to_the_cart, go_to_the_pay_step

pytestmark = pytest.mark.e2e


@pytest.mark.story("US-22")
def test_bank_transfer_hides_the_card_fields_on_a_phone(
    page: Page, page_problems: PageProblems
) -> None:
    # given a guest on a 390 px phone at the pay step, card chosen
    page.set_viewport_size({"width": 390, "height": 844})
    add_a_product_to_the_cart(page)
    go_to_the_pay_step(page)
    main = page.get_by_role("main")
    card_number = main.get_by_label("Card number", exact=True)
    expect(main.get_by_role("radio", name=re.compile(r"Card \(test gateway\)"))).to_be_checked()
    expect(card_number).to_be_visible()

    # when they choose bank transfer, the card fields go
    main.get_by_role("radio", name="Bank transfer").check()
    expect(card_number).to_be_hidden()
    expect(main.get_by_label("CVC", exact=True)).to_be_hidden()

    # and come back with the card
    main.get_by_role("radio", name=re.compile(r"Card \(test gateway\)")).check()
    expect(card_number).to_be_visible()

    # and the bank transfer places the order, with the shop's bank account on its page
    main.get_by_role("radio", name="Bank transfer").check()
    main.get_by_role("button", name="Place order and pay").click()
    expect(page).to_have_url(re.compile(r"/checkout/complete/FN-[0-9A-Z]+$"))
    expect(page.locator("#bank-transfer-details")).to_contain_text("GB33 BUKB 2020 1555 5555 55")
    assert (page_problems.console_errors, page_problems.page_errors) == ([], [])
