"""The storefront on a phone, in a real browser: every page fits 360 and 390 px without scrolling
sideways, Add to cart shows without scrolling, filters fold behind "Filter", and small choices
(a variant, a sort, a filter) change the page in place with htmx, or by a button without
JavaScript.

With ``FUNNEL_SCREENSHOTS`` set to a folder (``make screenshots``: docs/screenshots), each page
walked is also saved there at 390 px as ``phone-<page>.png``.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.e2e.problems import PageProblems
from tests.e2e.test_staff_accessibility import BLOCKING, sign_in_as_admin

pytestmark = pytest.mark.e2e

PHONE_WIDTHS = (360, 390)
PHONE_HEIGHT = 844
PASSWORD = "correct horse battery staple 42"
SCREENSHOTS = os.environ.get("FUNNEL_SCREENSHOTS")
IMAGELESS_TITLE = "Plain canvas tote"
# Set in the page before a choice: still there afterwards means no page load happened.
MARKER = "window.funnelNoReload = true"
NO_RELOAD = "() => window.funnelNoReload === true"


@pytest.fixture(scope="module")
def imageless_product(browser: Browser, live_server: str) -> str:
    """The path of an active product with one variant and no photo, made by staff."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in_as_admin(page)
    main = page.get_by_role("main")
    page.goto("/staff/products")
    main.get_by_role("button", name="New product", exact=True).click()
    main.get_by_label("Title", exact=True).fill(IMAGELESS_TITLE)
    category = main.get_by_label("Category", exact=True)
    values = category.locator("option").evaluate_all(
        "options => options.map(option => option.value).filter(value => value)"
    )
    category.select_option(values[-1])
    main.get_by_label("Description", exact=True).fill("A plain tote, photo to follow.")
    main.get_by_role("button", name="Create product", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit product {IMAGELESS_TITLE}")
    main.get_by_label("SKU", exact=True).fill(f"TOTE-{secrets.token_hex(3).upper()}")
    main.get_by_label("Price", exact=True).fill("9.50")
    main.get_by_role("button", name="Add variant", exact=True).click()
    main.get_by_label("Status", exact=True).select_option("active")
    main.get_by_role("button", name="Save product", exact=True).click()
    expect(main.get_by_text("Status: Active.")).to_be_visible()
    context.close()
    return "/p/plain-canvas-tote"


@pytest.fixture
def phone(browser: Browser, live_server: str) -> Iterator[Page]:
    """A page 390 x 844 px (a common phone), in a fresh context."""
    context = browser.new_context(
        base_url=live_server,
        viewport={"width": 390, "height": PHONE_HEIGHT},
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def overflow(page: Page) -> dict[int, int]:
    """Per phone width, the document's width when it is wider than the screen."""
    wide: dict[int, int] = {}
    for width in PHONE_WIDTHS:
        page.set_viewport_size({"width": width, "height": PHONE_HEIGHT})
        scroll_width, inner_width = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        if scroll_width > inner_width:
            wide[width] = scroll_width
    page.set_viewport_size({"width": 390, "height": PHONE_HEIGHT})
    return wide


class Walk:
    """Checks each page the walk reaches: its width at 360 and 390 px, and axe-core."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.axe = Axe()
        self.too_wide: dict[str, dict[int, int]] = {}
        self.violations: dict[str, list[str]] = {}
        self.names: list[str] = []

    def check(self, name: str) -> None:
        self.page.wait_for_load_state("load")
        self.names.append(name)
        wide = overflow(self.page)
        if wide:
            self.too_wide[f"{name} ({urlsplit(self.page.url).path})"] = wide
        results = self.axe.run(self.page)
        blocking = [
            f"{violation['id']} ({violation['impact']})"
            for violation in results.response["violations"]
            if violation.get("impact") in BLOCKING
        ]
        if blocking:
            self.violations[name] = blocking
        if SCREENSHOTS:
            folder = Path(SCREENSHOTS)
            folder.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(folder / f"phone-{name}.png"), full_page=True)


def product_paths(page: Page) -> list[str]:
    links = page.get_by_role("main").get_by_role("article").get_by_role("heading")
    hrefs = links.get_by_role("link").evaluate_all(
        "links => links.map(l => l.getAttribute('href'))"
    )
    return list(dict.fromkeys(urlsplit(href).path for href in hrefs))


def open_a_product_with_variants_in_stock(page: Page) -> str:
    """From the home page, open a product with a chooser and Add to cart; its path."""
    page.goto("/")
    for path in product_paths(page):
        page.goto(path)
        main = page.get_by_role("main")
        if (
            main.get_by_label("Choose a variant", exact=True).count()
            and main.get_by_role("button", name="Add to cart", exact=True).count()
        ):
            return path
    pytest.fail("no product on the home page has variants and stock")


def register(page: Page, email: str) -> None:
    page.goto("/account/register")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account", exact=True).click()
    expect(page).to_have_url(re.compile(r"/account$"))


@pytest.mark.story("US-13")
def test_every_storefront_page_fits_a_phone_and_has_no_serious_accessibility_violation(
    phone: Page, imageless_product: str
) -> None:
    walk = Walk(phone)
    main = phone.get_by_role("main")

    # signed out: the account forms
    phone.goto("/account/sign-in")
    walk.check("sign-in")
    phone.goto("/account/register")
    walk.check("register")

    # a new customer's account pages
    register(phone, f"phone-{secrets.token_hex(6)}@example.com")
    walk.check("account")
    for path, name in [
        ("/account/addresses", "account-addresses"),
        ("/account/addresses/new", "account-address-new"),
        ("/account/password", "account-password"),
        ("/account/orders", "account-orders-empty"),
    ]:
        phone.goto(path)
        walk.check(name)

    # the catalogue
    phone.goto("/")
    walk.check("home")
    category = phone.get_by_role("region", name="Shop by category").get_by_role("link").first
    category.click()
    walk.check("category")
    word = phone.get_by_role("main").get_by_role("article").first.get_by_role("link")
    phone.goto(f"/search?q={word.inner_text().split()[0]}")
    walk.check("search")
    phone.goto(imageless_product)
    walk.check("product-without-image")
    open_a_product_with_variants_in_stock(phone)
    walk.check("product")

    # the cart with a line, and the checkout's steps up to the order
    main.get_by_role("button", name="Add to cart", exact=True).click()
    expect(phone).to_have_url(re.compile(r"/cart$"))
    walk.check("cart")
    table = phone.locator(".cart-lines").bounding_box()
    assert table is not None
    assert table["x"] + table["width"] <= 390
    main.get_by_role("link", name="Checkout", exact=True).click()
    walk.check("checkout-contact")
    main.get_by_role("button", name="Continue to shipping address").click()
    walk.check("checkout-address")
    main.get_by_label("Full name", exact=True).fill("Ann Smith")
    main.get_by_label("Address line 1", exact=True).fill("1 High Street")
    main.get_by_label("Postal code", exact=True).fill("BS1 4DJ")
    main.get_by_label("City", exact=True).fill("Bristol")
    main.get_by_label("Country", exact=True).select_option("GB")
    main.get_by_role("button", name="Continue to shipping method").click()
    walk.check("checkout-shipping")
    main.get_by_role("radio", name=re.compile(r"Standard")).check()
    main.get_by_role("button", name="Continue to review").click()
    walk.check("checkout-review")
    main.get_by_role("button", name="Continue to payment").click()
    walk.check("checkout-pay")
    main.get_by_role("radio", name=re.compile(r"Card \(test gateway\)")).check()
    main.get_by_label("Card number", exact=True).fill("4242 4242 4242 4242")
    main.get_by_label("Expiry (MM/YY)", exact=True).fill(f"12/{(datetime.now(UTC).year + 3) % 100}")
    main.get_by_label("CVC", exact=True).fill("123")
    main.get_by_role("button", name="Place order and pay").click()
    expect(phone).to_have_url(re.compile(r"/checkout/complete/FN-[0-9A-Z]+$"))
    walk.check("checkout-complete")
    phone.goto("/account/orders")
    walk.check("account-orders")
    main.get_by_role("link", name=re.compile(r"^FN-[0-9A-Z]+$")).first.click()
    expect(phone).to_have_url(re.compile(r"/account/orders/FN-[0-9A-Z]+$"))
    walk.check("order")

    assert walk.too_wide == {}
    assert walk.violations == {}
    assert len(walk.names) == 21


@pytest.mark.story("US-13")
def test_the_header_fits_a_phone_with_a_usable_search_box(phone: Page) -> None:
    phone.goto("/")
    for width in PHONE_WIDTHS:
        phone.set_viewport_size({"width": width, "height": PHONE_HEIGHT})
        navigation = phone.get_by_role("navigation", name="Main")
        search = navigation.get_by_role("searchbox", name="Search products")
        box = search.bounding_box()
        assert box is not None
        # the search box takes a row of its own, nearly the screen's width
        assert box["width"] >= width - 64
        # and "Cart (0)" stays on one line
        cart = navigation.get_by_role("link", name=re.compile(r"^Cart \(\d+\)$"))
        assert cart.evaluate("link => link.getClientRects().length") == 1


@pytest.mark.story("US-13")
def test_add_to_cart_shows_without_scrolling_on_a_product_page(phone: Page) -> None:
    open_a_product_with_variants_in_stock(phone)

    button = phone.get_by_role("main").get_by_role("button", name="Add to cart", exact=True)
    box = button.bounding_box()
    assert box is not None
    assert phone.evaluate("() => window.scrollY") == 0
    assert box["y"] + box["height"] <= PHONE_HEIGHT


@pytest.mark.story("US-08")
def test_choosing_a_variant_changes_the_product_in_place_and_the_url(
    page: Page, page_problems: PageProblems
) -> None:
    # given a product page with several variants, on a phone
    phone = page
    phone.set_viewport_size({"width": 390, "height": PHONE_HEIGHT})
    path = open_a_product_with_variants_in_stock(phone)
    main = phone.get_by_role("main")
    chooser = main.get_by_label("Choose a variant", exact=True)
    values = chooser.locator("option").evaluate_all("options => options.map(o => o.value)")
    expect(main.get_by_role("button", name="Show this variant")).to_have_count(0)
    first_sku = main.locator("#selected-sku").inner_text()
    label = chooser.locator(f"option[value='{values[1]}']").inner_text()
    phone.evaluate(MARKER)

    # when another variant is chosen
    chooser.select_option(values[1])

    # then the URL names it, and its SKU shows, without a page load
    expect(phone).to_have_url(re.compile(rf"{re.escape(path)}\?variant={values[1]}$"))
    expect(main.locator("#add-to-cart input[name=variant_id]")).to_have_value(values[1])
    assert phone.evaluate(NO_RELOAD)
    expect(main.locator("#selected-sku")).not_to_have_text(first_sku)
    # the price shown is the one the chooser names for that variant
    price = main.locator("#selected-price").inner_text()
    assert f" · {price} · " in label
    expect(main.get_by_label("Choose a variant", exact=True)).to_have_value(values[1])
    # and htmx ran within the content security policy: no violation, error or foreign request
    assert page_problems == PageProblems()


@pytest.mark.story("US-09")
def test_filters_fold_on_a_phone_and_apply_on_change(
    page: Page, page_problems: PageProblems
) -> None:
    # given a category page on a phone
    phone = page
    phone.set_viewport_size({"width": 390, "height": PHONE_HEIGHT})
    phone.goto("/")
    phone.get_by_role("region", name="Shop by category").get_by_role("link").first.click()
    main = phone.get_by_role("main")
    first_product = main.get_by_role("article").first.bounding_box()
    assert first_product is not None
    # the filters are folded: the first product shows on the first screen
    assert first_product["y"] < PHONE_HEIGHT
    filters = main.locator("details.listing-filters")
    expect(filters).not_to_have_attribute("open", "")
    expect(main.get_by_role("button", name="Apply")).to_have_count(0)
    phone.evaluate(MARKER)

    # when the shopper opens "Filter" and ticks a value
    main.get_by_text("Filter", exact=True).click()
    box = main.locator("#listing-facets input[type=checkbox]").first
    name, value = box.get_attribute("name"), box.get_attribute("value")
    box.check()

    # then the listing follows at once, in place, with the filter in the URL
    expect(phone).to_have_url(re.compile(rf"[?&]{name}={re.escape(value or '')}"))
    expect(main.get_by_role("link", name=re.compile(r"^Clear all filters"))).to_be_visible()
    expect(main.locator("#listing-facets input[type=checkbox]:checked")).to_have_count(1)
    expect(filters).to_have_attribute("open", "")
    assert phone.evaluate(NO_RELOAD)

    # and a new sort applies on change too
    main.get_by_label("Sort by", exact=True).select_option("price-asc")
    expect(phone).to_have_url(re.compile(r"sort=price-asc"))
    assert phone.evaluate(NO_RELOAD)

    # and "Clear all filters" keeps the sort and drops the filter
    main.get_by_role("link", name=re.compile(r"^Clear all filters")).click()
    expect(phone).to_have_url(re.compile(r"/c/[^?]+\?sort=price-asc$"))
    assert page_problems == PageProblems()


@pytest.mark.story("US-09")
def test_on_a_wide_screen_the_filters_show_without_opening_them(page: Page) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/")
    page.get_by_role("region", name="Shop by category").get_by_role("link").first.click()

    expect(page.locator("#listing-facets input[type=checkbox]").first).to_be_visible()
    expect(page.get_by_text("Filter", exact=True)).to_be_hidden()


@pytest.mark.story("US-13")
def test_without_javascript_the_buttons_apply_the_choices(
    browser: Browser, live_server: str
) -> None:
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        # a variant is shown by its button
        path = open_a_product_with_variants_in_stock(page)
        main = page.get_by_role("main")
        chooser = main.get_by_label("Choose a variant", exact=True)
        values = chooser.locator("option").evaluate_all("options => options.map(o => o.value)")
        chooser.select_option(values[1])
        main.get_by_role("button", name="Show this variant", exact=True).click()
        expect(page).to_have_url(re.compile(rf"{re.escape(path)}\?variant={values[1]}$"))

        # a sort by Apply
        page.goto("/")
        page.get_by_role("region", name="Shop by category").get_by_role("link").first.click()
        page.get_by_role("main").get_by_label("Sort by", exact=True).select_option("name")
        page.get_by_role("main").get_by_role("button", name="Apply", exact=True).click()
        expect(page).to_have_url(re.compile(r"sort=name"))
    finally:
        context.close()
