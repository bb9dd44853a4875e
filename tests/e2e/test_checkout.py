"""Checkout in a real browser: a guest pays by card (4242), is declined (0002) and keeps the
cart, and passes 3-D Secure (3220) on the test bank's page.

Locators are the ones a person (or a screen reader) uses: roles, accessible names and labels.
Every wait is Playwright's own auto-wait inside ``expect``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.problems import PageProblems

pytestmark = pytest.mark.e2e

CONFIRMED = re.compile(r"Thank you! Your order FN-[0-9A-Z]+ is confirmed\.")


def add_a_product_to_the_cart(page: Page) -> str:
    """From the home page, put one unit of a product in stock in the cart; its title."""
    page.goto("/")
    links = page.get_by_role("main").get_by_role("article").get_by_role("heading")
    addresses = [link.get_attribute("href") for link in links.get_by_role("link").all()]
    for address in dict.fromkeys(addresses):
        assert address is not None
        page.goto(address)
        quantity = page.get_by_role("main").get_by_label("Quantity", exact=True)
        if quantity.count() and int(quantity.get_attribute("max") or 0) >= 1:
            title = page.get_by_role("heading", level=1).inner_text().strip()
            page.get_by_role("main").get_by_role("button", name="Add to cart", exact=True).click()
            expect(page).to_have_url(re.compile(r"/cart$"))
            return title
    pytest.fail("no product on the home page is in stock")


def go_to_the_pay_step(page: Page) -> None:
    main = page.get_by_role("main")
    main.get_by_role("link", name="Checkout", exact=True).click()
    main.get_by_label("Email", exact=True).fill("guest@example.com")
    main.get_by_role("button", name="Continue to shipping address").click()
    main.get_by_label("Full name", exact=True).fill("Ann Smith")
    main.get_by_label("Address line 1", exact=True).fill("1 High Street")
    main.get_by_label("Postal code", exact=True).fill("BS1 4DJ")
    main.get_by_label("City", exact=True).fill("Bristol")
    main.get_by_label("Country", exact=True).select_option("GB")
    main.get_by_role("button", name="Continue to shipping method").click()
    main.get_by_role("radio", name=re.compile(r"Standard")).check()
    main.get_by_role("button", name="Continue to review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review your order")
    main.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment")


def pay_by_card(page: Page, number: str) -> None:
    main = page.get_by_role("main")
    main.get_by_role("radio", name=re.compile(r"Card \(test gateway\)")).check()
    main.get_by_label("Card number", exact=True).fill(number)
    main.get_by_label("Expiry (MM/YY)", exact=True).fill(f"12/{(datetime.now(UTC).year + 3) % 100}")
    main.get_by_label("CVC", exact=True).fill("123")
    main.get_by_role("button", name="Place order and pay").click()


@pytest.mark.story("US-20")
@pytest.mark.story("US-23")
def test_a_guest_buys_with_the_4242_card_and_sees_the_confirmation(
    page: Page, page_problems: PageProblems
) -> None:
    title = add_a_product_to_the_cart(page)
    for reports in vars(page_problems).values():  # only the checkout's own pages are judged
        reports.clear()
    go_to_the_pay_step(page)

    pay_by_card(page, "4242 4242 4242 4242")

    expect(page).to_have_url(re.compile(r"/checkout/complete/FN-[0-9A-Z]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(CONFIRMED)
    expect(page.get_by_role("main").get_by_text(title).first).to_be_visible()
    expect(page.get_by_role("link", name="Cart (0)", exact=True)).to_be_visible()
    assert page_problems == PageProblems()


@pytest.mark.story("US-21")
def test_a_declined_card_shows_the_reason_and_the_cart_is_intact(page: Page) -> None:
    title = add_a_product_to_the_cart(page)
    go_to_the_pay_step(page)

    pay_by_card(page, "4000 0000 0000 0002")

    expect(page).to_have_url(re.compile(r"/checkout/pay$"))
    expect(
        page.get_by_role("main").get_by_text("Your card was declined.", exact=False)
    ).to_be_visible()
    expect(page.get_by_role("link", name="Cart (1)", exact=True)).to_be_visible()
    page.get_by_role("link", name="Cart (1)", exact=True).click()
    expect(page.get_by_role("main").get_by_role("link", name=title, exact=True)).to_be_visible()


@pytest.mark.story("US-63")
def test_a_declined_card_then_a_good_one_place_the_order(
    page: Page,
) -> None:
    add_a_product_to_the_cart(page)
    go_to_the_pay_step(page)

    # a declined card sends the shopper back to the pay step, with no order made
    pay_by_card(page, "4000 0000 0000 0002")
    expect(page).to_have_url(re.compile(r"/checkout/pay$"))
    pay_by_card(page, "4242 4242 4242 4242")

    # the good card places the order
    expect(page.get_by_role("heading", level=1)).to_have_text(CONFIRMED)
    expect(page.get_by_role("link", name="Cart (0)", exact=True)).to_be_visible()


@pytest.mark.story("US-21")
def test_the_3d_secure_card_is_approved_on_the_bank_page_and_confirmed(page: Page) -> None:
    add_a_product_to_the_cart(page)
    go_to_the_pay_step(page)

    pay_by_card(page, "4000 0000 0000 3220")
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your payment")
    page.get_by_role("button", name="Approve", exact=True).click()

    expect(page).to_have_url(re.compile(r"/checkout/complete/FN-[0-9A-Z]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(CONFIRMED)
