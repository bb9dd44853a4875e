"""US-62 in a browser: a shop showing prices with tax; the variant chooser (htmx) swaps in the
chosen variant's price with tax, labelled, and the cart charges the same unit price."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.live_server import live_server as run_live_server

pytestmark = pytest.mark.e2e

GROSS_SHOP = {"FUNNEL_PRICES_INCLUDE_TAX": "true", "FUNNEL_SHOP_COUNTRY": "GB"}
NO_RELOAD = "() => window.funnelNoReload === true"


@pytest.fixture(scope="module")
def gross_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    instance = tmp_path_factory.mktemp("gross-instance")
    with run_live_server(instance, workers=1, demo_products=12, settings=GROSS_SHOP) as server:
        yield server.base_url


@pytest.fixture
def shopper(browser: Browser, gross_shop: str) -> Iterator[Page]:
    context = browser.new_context(base_url=gross_shop)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def a_product_with_another_variant_in_stock(page: Page) -> tuple[str, str, str]:
    """From the home page, a product page with a chooser offering another variant in stock:
    its path, and that variant's id and chooser text."""
    page.goto("/")
    links = page.get_by_role("main").get_by_role("article").get_by_role("heading")
    hrefs = links.get_by_role("link").evaluate_all("ls => ls.map(l => l.getAttribute('href'))")
    for path in dict.fromkeys(urlsplit(href).path for href in hrefs):
        page.goto(path)
        chooser = page.get_by_role("main").get_by_label("Choose a variant", exact=True)
        if not chooser.count():
            continue
        selected = chooser.input_value()
        options = chooser.locator("option").evaluate_all(
            "options => options.map(o => [o.value, o.textContent.trim()])"
        )
        for value, text in options:
            if value != selected and text.endswith("In stock"):
                return path, value, text
    pytest.fail("no product on the home page has another variant in stock")


@pytest.mark.story("US-62")
def test_the_variant_chooser_shows_the_chosen_price_with_tax(shopper: Page) -> None:
    # given a product page in a GB shop that shows prices with VAT
    path, value, label = a_product_with_another_variant_in_stock(shopper)
    main = shopper.get_by_role("main")
    expect(main.locator("#selected-price-label")).to_have_text("incl. VAT")
    chooser = main.get_by_label("Choose a variant", exact=True)
    shopper.evaluate("window.funnelNoReload = true")

    # when another variant is chosen (htmx swaps the details in place)
    chooser.select_option(value)

    # then its price with tax shows, as the chooser names it, still labelled
    expect(shopper).to_have_url(re.compile(rf"{re.escape(path)}\?variant={value}$"))
    assert shopper.evaluate(NO_RELOAD)
    expect(main.locator("#add-to-cart input[name=variant_id]")).to_have_value(value)
    price = main.locator("#selected-price").inner_text()
    assert f" · {price} · " in label
    expect(main.locator("#selected-price-label")).to_have_text("incl. VAT")

    # and the cart shows that unit price
    main.get_by_role("button", name="Add to cart", exact=True).click()
    shopper.goto("/cart")
    expect(shopper.locator("td[data-label='Unit price']")).to_have_text(price)
