"""A guest's cart, in a real browser: add from the product page, change the quantity, remove.

Locators are the ones a person (or a screen reader) uses: roles, accessible names and labels.
Every wait is Playwright's own auto-wait inside ``expect``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.problems import PageProblems

pytestmark = pytest.mark.e2e


def main_navigation(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main")


def open_a_product_with_stock(page: Page, units: int) -> str:
    """Open, from the home page, a product whose first variant has ``units`` or more in stock;
    return its title."""
    page.goto("/")
    links = page.get_by_role("main").get_by_role("article").get_by_role("heading")
    addresses = [link.get_attribute("href") for link in links.get_by_role("link").all()]
    for address in dict.fromkeys(addresses):
        assert address is not None
        page.goto(address)
        quantity = page.get_by_role("main").get_by_label("Quantity", exact=True)
        if quantity.count() and int(quantity.get_attribute("max") or 0) >= units:
            return page.get_by_role("heading", level=1).inner_text().strip()
    pytest.fail(f"no product on the home page has {units} units of its first variant")


def add_change_and_remove(page: Page) -> None:
    # given a product page whose variant has at least 3 units
    title = open_a_product_with_stock(page, 3)
    main = page.get_by_role("main")

    # when the guest adds 2 to the cart
    main.get_by_label("Quantity", exact=True).fill("2")
    main.get_by_role("button", name="Add to cart", exact=True).click()

    # then the cart shows them
    expect(page).to_have_url(re.compile(r"/cart$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your cart")
    expect(main_navigation(page).get_by_role("link", name="Cart (2)", exact=True)).to_be_visible()
    expect(main.get_by_role("link", name=title, exact=True)).to_be_visible()
    expect(main.get_by_label(f"Quantity for {title}", exact=True)).to_have_value("2")
    expect(main.get_by_role("link", name="Checkout", exact=True)).to_have_attribute(
        "href", "/checkout"
    )

    # when the quantity is changed to 3
    main.get_by_label(f"Quantity for {title}", exact=True).fill("3")
    main.get_by_role("button", name=f"Update {title}", exact=True).click()

    # then the cart holds 3
    expect(main.get_by_text("Quantity updated.", exact=True)).to_be_visible()
    expect(main.get_by_label(f"Quantity for {title}", exact=True)).to_have_value("3")
    expect(main_navigation(page).get_by_role("link", name="Cart (3)", exact=True)).to_be_visible()

    # when the line is removed
    main.get_by_role("button", name=f"Remove {title}", exact=True).click()

    # then the cart is empty
    expect(main.get_by_text("Your cart is empty.", exact=True)).to_be_visible()
    expect(main_navigation(page).get_by_role("link", name="Cart (0)", exact=True)).to_be_visible()


@pytest.mark.story("US-18")
def test_a_guest_adds_a_product_changes_the_quantity_and_removes_it(page: Page) -> None:
    add_change_and_remove(page)


def test_the_cart_pages_log_no_console_error_csp_violation_or_foreign_request(
    page: Page, page_problems: PageProblems
) -> None:
    add_change_and_remove(page)

    assert page_problems == PageProblems()
