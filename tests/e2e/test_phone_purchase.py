"""The storefront's promise on a phone, in a real browser: a shopper finds a product by a
misspelt word, picks a variant without a page load, and buys it; no page scrolls sideways."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.problems import PageProblems
from tests.e2e.test_checkout import CONFIRMED, go_to_the_pay_step, pay_by_card
from tests.e2e.test_phone import MARKER, NO_RELOAD, PHONE_HEIGHT, product_paths

pytestmark = [pytest.mark.e2e, pytest.mark.story("US-60"), pytest.mark.story("US-63")]

WIDTH = 390


def fits(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth") <= WIDTH


def a_product_with_variants_and_a_long_word(page: Page) -> tuple[str, str]:
    """(title, a word of six letters or more of it) of a product with a variant chooser."""
    page.goto("/")
    for path in product_paths(page):
        page.goto(path)
        main = page.get_by_role("main")
        title = page.get_by_role("heading", level=1).inner_text().strip()
        words = [word for word in title.lower().split() if word.isalpha() and len(word) >= 6]
        if words and main.get_by_label("Choose a variant", exact=True).count():
            return title, words[0]
    pytest.fail("no product on the home page has variants and a long word in its title")


def test_a_phone_shopper_finds_by_a_misspelt_word_picks_a_variant_in_place_and_buys(
    page: Page, page_problems: PageProblems
) -> None:
    page.set_viewport_size({"width": WIDTH, "height": PHONE_HEIGHT})
    title, word = a_product_with_variants_and_a_long_word(page)
    misspelt = word[:2] + word[3:]  # its third letter left out

    # when the shopper searches the misspelt word from the header
    page.goto("/")
    box = page.get_by_role("navigation", name="Main").get_by_role("searchbox")
    box.fill(misspelt)
    box.press("Enter")

    # then the product is found, and opens
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Search results for “{misspelt}”")
    assert fits(page)
    page.get_by_role("main").get_by_role("link", name=title, exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)

    # when they choose another variant, the product changes in place (no page load)
    main = page.get_by_role("main")
    chooser = main.get_by_label("Choose a variant", exact=True)
    options = chooser.locator("option").evaluate_all(
        "options => options.map(o => [o.value, o.textContent])"
    )
    current = chooser.input_value()
    choice = next(
        (value for value, text in options if value != current and "out of stock" not in text),
        current,
    )
    page.evaluate(MARKER)
    chooser.select_option(choice)
    expect(main.locator("#add-to-cart input[name=variant_id]")).to_have_value(choice)
    assert page.evaluate(NO_RELOAD)
    assert fits(page)

    # and they add it to the cart and pay by card
    main.get_by_role("button", name="Add to cart", exact=True).click()
    expect(page).to_have_url(re.compile(r"/cart$"))
    assert fits(page)
    go_to_the_pay_step(page)
    assert fits(page)
    pay_by_card(page, "4242 4242 4242 4242")

    # then the order is confirmed, on a page that fits the phone too
    expect(page.get_by_role("heading", level=1)).to_have_text(CONFIRMED)
    assert fits(page)
    assert page_problems == PageProblems()
