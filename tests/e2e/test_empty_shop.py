"""From an empty shop to the first sale, in the browser only (US-17, US-29, US-58).

A shop started with no demo data and one admin made on the command line (as the operator
manual says) is set up entirely in ``/staff/``: its name, contact, shipping, tax and order
numbers; a category, a product, its variant and price, its stock, its image; the product goes
on sale; then a guest buys it with the test card, at the shop's own shipping price and tax.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.support.live_server import LiveServer, live_server

pytestmark = pytest.mark.e2e

ADMIN = "owner@example.com"
PASSWORD = "the owner's long passphrase"
CONFIRMED = re.compile(r"Thank you! Your order BP-[0-9A-Z]+ is confirmed\.")


@pytest.fixture(scope="module")
def empty_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A migrated shop with no data but its admin, under gunicorn."""
    instance = tmp_path_factory.mktemp("empty-shop")
    with live_server(instance, workers=2) as server:
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "funnel", "create-admin", ADMIN],
            input=f"{PASSWORD}\n{PASSWORD}\n",
            env=server.environment,
            cwd=instance,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        yield server


@pytest.fixture
def shop_page(browser: Browser, empty_shop: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=empty_shop.base_url)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def a_photo(directory: Path) -> Path:
    """A small real PNG, as a camera would give (the shop checks the content, not the name)."""
    picture = Image.new("RGB", (640, 480), (30, 90, 200))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    path = directory / "blue-mug.png"
    path.write_bytes(buffer.getvalue())
    return path


def sign_in_as_the_owner(page: Page) -> None:
    page.goto("/account/sign-in?next=/staff/")
    page.get_by_label("Email", exact=True).fill(ADMIN)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff dashboard")


def set_up_the_shop(page: Page) -> None:
    main = page.get_by_role("main")
    main.get_by_role("link", name="Settings", exact=True).click()
    main.get_by_label("Shop name", exact=True).fill("Blue Pottery")
    main.get_by_label("Contact email", exact=True).fill("hello@bluepottery.co.uk")
    main.get_by_label("Postal address", exact=True).fill("2 Quay Street\nBristol BS1 4DJ")
    main.get_by_label("Code of method 1", exact=True).fill("royal-mail")
    main.get_by_label("Name of method 1", exact=True).fill("Royal Mail 48")
    main.get_by_label("Price of method 1", exact=True).fill("3.50")
    united_kingdom = main.get_by_role("row").filter(has=page.locator('input[value="GB"]'))
    united_kingdom.get_by_label(re.compile(r"Rate of row \d+ in percent")).fill("10")
    main.get_by_label("Order number prefix", exact=True).fill("BP-")
    main.get_by_role("button", name="Save the settings", exact=True).click()
    expect(page.get_by_role("link", name="Blue Pottery", exact=True)).to_be_visible()
    page.goto("/staff/")


def set_up_the_catalogue(page: Page, photo: Path) -> None:
    main = page.get_by_role("main")
    main.get_by_role("link", name="Categories", exact=True).click()
    expect(main.get_by_text("No categories yet.")).to_be_visible()
    main.get_by_label("Name", exact=True).fill("Mugs")
    main.get_by_role("button", name=re.compile(r"Create|Add|Save")).click()
    expect(main.get_by_role("link", name="Mugs", exact=True)).to_be_visible()

    page.goto("/staff/")
    main.get_by_role("link", name="Products", exact=True).click()
    main.get_by_role("button", name="New product", exact=True).click()
    main.get_by_label("Title", exact=True).fill("Blue mug")
    main.get_by_label("Category", exact=True).select_option(label="Mugs")
    main.get_by_label("Description", exact=True).fill("A blue mug for the first sale.")
    main.get_by_role("button", name="Create product", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit product Blue mug")

    main.get_by_label("SKU", exact=True).fill("MUG-BLUE")
    main.get_by_label("Price", exact=True).fill("12.50")
    main.get_by_label("Option 1 name", exact=True).fill("Size")
    main.get_by_label("Option 1 value", exact=True).fill("Large")
    main.get_by_role("button", name="Add variant", exact=True).click()
    expect(main.get_by_role("cell", name="MUG-BLUE", exact=True)).to_be_visible()

    main.get_by_role("link", name="Stock of MUG-BLUE: 0", exact=True).click()
    main.get_by_label("Quantity", exact=True).fill("5")
    main.get_by_label("Reason", exact=True).select_option(label="Received")
    main.get_by_role("button", name="Save adjustment", exact=True).click()
    expect(page.locator("#on-hand")).to_have_text("5")

    main.get_by_role("link", name="Blue mug", exact=True).click()
    main.get_by_role("link", name="Images of Blue mug", exact=True).click()
    main.get_by_label("Images", exact=True).set_input_files(photo)
    main.get_by_label("Alt text", exact=True).fill("A blue mug on a white table")
    main.get_by_role("button", name="Upload", exact=True).click()
    expect(main.get_by_role("heading", name="Images (1)", exact=True)).to_be_visible()

    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Blue mug").click()
    main.get_by_label("Status", exact=True).select_option("active")
    main.get_by_role("button", name="Save product", exact=True).click()
    expect(main.get_by_text("Status: Active.")).to_be_visible()


def buy_it_as_a_guest(page: Page) -> None:
    page.goto("/")
    main = page.get_by_role("main")
    main.get_by_role("link", name="Blue mug").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Blue mug")
    expect(main.get_by_role("img", name="A blue mug on a white table")).to_be_visible()
    main.get_by_role("button", name="Add to cart", exact=True).click()
    expect(page).to_have_url(re.compile(r"/cart$"))
    main.get_by_role("link", name="Checkout", exact=True).click()
    main.get_by_label("Email", exact=True).fill("first.customer@example.com")
    main.get_by_role("button", name="Continue to shipping address").click()
    main.get_by_label("Full name", exact=True).fill("Ann Smith")
    main.get_by_label("Address line 1", exact=True).fill("1 High Street")
    main.get_by_label("Postal code", exact=True).fill("BS1 4DJ")
    main.get_by_label("City", exact=True).fill("Bristol")
    main.get_by_label("Country", exact=True).select_option("GB")
    main.get_by_role("button", name="Continue to shipping method").click()
    main.get_by_role("radio", name=re.compile(r"Royal Mail 48")).check()
    main.get_by_role("button", name="Continue to review").click()
    # the shop's own prices: 12.50 + 3.50 shipping, and its 10 % for the United Kingdom on both
    expect(main).to_contain_text("$17.60")
    main.get_by_role("button", name="Continue to payment").click()
    main.get_by_role("radio", name=re.compile(r"Card \(test gateway\)")).check()
    main.get_by_label("Card number", exact=True).fill("4242 4242 4242 4242")
    main.get_by_label("Expiry (MM/YY)", exact=True).fill(f"12/{(datetime.now(UTC).year + 3) % 100}")
    main.get_by_label("CVC", exact=True).fill("123")
    main.get_by_role("button", name="Place order and pay").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(CONFIRMED)


@pytest.mark.story("US-17")
@pytest.mark.story("US-29")
@pytest.mark.story("US-58")
def test_an_owner_sets_up_an_empty_shop_in_the_browser_and_a_guest_buys(
    shop_page: Page, browser: Browser, empty_shop: LiveServer, tmp_path: Path
) -> None:
    # given an empty shop: the storefront has nothing to sell
    shop_page.goto("/")
    expect(shop_page.get_by_role("main").get_by_role("article")).to_have_count(0)

    # when its owner sets up the catalogue in the staff pages, and a guest then buys
    sign_in_as_the_owner(shop_page)
    set_up_the_shop(shop_page)
    set_up_the_catalogue(shop_page, a_photo(tmp_path))
    guest = browser.new_context(base_url=empty_shop.base_url)
    guest.set_default_timeout(10_000)
    buy_it_as_a_guest(guest_page := guest.new_page())

    # then the order is paid, and the owner sees it and the stock it took
    number = re.search(r"BP-[0-9A-Z]+", guest_page.get_by_role("heading", level=1).inner_text())
    guest.close()
    assert number is not None
    shop_page.goto("/staff/orders")
    expect(shop_page.get_by_role("main").get_by_role("link", name=number.group(0))).to_be_visible()
    shop_page.goto("/staff/stock")
    expect(
        shop_page.get_by_role("main").get_by_role("row", name=re.compile("MUG-BLUE"))
    ).to_contain_text("4")
