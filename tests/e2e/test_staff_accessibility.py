"""Every staff page and the storefront's main pages are accessible: axe-core, run in Chromium on
each of them, finds no serious or critical violation (labels, contrast, names of links and
buttons, landmarks ...).

With ``FUNNEL_SCREENSHOTS`` set to a folder (``make screenshots``: docs/screenshots), each page
checked is also saved there as a full-page PNG: the living wireframes the manuals link to.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

ADMIN = "admin@example.com"
ADMIN_PASSWORD = "funnel-admin-demo-2026"  # the demo loader's admin (development data)
BLOCKING = frozenset({"serious", "critical"})
LISTS = [
    "/staff/",
    "/staff/customers",
    "/staff/categories",
    "/staff/products",
    "/staff/products/new",
    "/staff/stock",
    "/staff/orders",
    "/staff/returns?status=all",
    "/staff/team",
    "/staff/audit",
    "/staff/reports/funnel",
    "/staff/reports/sales",
    "/staff/reports/products",
    "/staff/reports/product-funnel",
    "/staff/reports/product-funnel?of=category",
    "/staff/feedback",
]
# From a list, the first link whose path matches: the page of one thing.
DETAILS = [
    ("/staff/customers", r"^/staff/customers/\d+$"),
    ("/staff/categories", r"^/staff/categories/\d+$"),
    ("/staff/products", r"^/staff/products/\d+$"),
    ("/staff/stock", r"^/staff/variants/\d+/stock$"),
    ("/staff/team", r"^/staff/team/\d+$"),
    ("/staff/orders", r"^/staff/orders/[^/]+$"),
    ("/staff/returns?status=all", r"^/staff/returns/[^/]+$"),
    ("/staff/feedback", r"^/staff/feedback/\d+$"),
]


STOREFRONT = [
    "/",
    "/search?q=mug",
    "/cart",
    "/account/sign-in",
    "/account/register",
    "/feedback?from=/cart",
    "/feedback/thanks?from=/cart",
]
SCREENSHOTS = os.environ.get("FUNNEL_SCREENSHOTS")


def screenshot_name(path: str) -> str:
    """A file name for a page: /staff/products/12 -> staff-products-detail.png, /p/<slug> ->
    product.png, /c/<slug> -> category.png."""
    storefront = {"p": "product", "c": "category"}
    segments = urlsplit(path).path.strip("/").split("/")
    if len(segments) == 2 and segments[0] in storefront:
        return f"{storefront[segments[0]]}.png"
    parts = [
        "detail" if re.fullmatch(r"\d+|FN-[0-9A-Z]+", part) else part
        for part in urlsplit(path).path.strip("/").split("/")
        if part
    ]
    return "-".join(parts or ["home"]) + ".png"


def blocking_violations(page: Page, axe: Axe) -> list[str]:
    results = axe.run(page)
    if SCREENSHOTS:
        folder = Path(SCREENSHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / screenshot_name(page.url)), full_page=True)
    return [
        f"{violation['id']} ({violation['impact']}): "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation.get("impact") in BLOCKING
    ]


def sign_in_as_admin(page: Page) -> None:
    page.goto("/account/sign-in?next=/staff/")
    page.get_by_label("Email", exact=True).fill(ADMIN)
    page.get_by_label("Password", exact=True).fill(ADMIN_PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff dashboard")


def first_link(page: Page, list_path: str, pattern: str) -> str | None:
    page.goto(list_path)
    for href in (
        page.get_by_role("main")
        .locator("a[href]")
        .evaluate_all("links => links.map(link => link.getAttribute('href'))")
    ):
        path = urlsplit(href).path
        if re.match(pattern, path):
            return path
    return None


def send_feedback(page: Page) -> None:
    """One message through the storefront's form, so that the inbox has an item to open."""
    page.goto("/feedback?from=/cart")
    page.get_by_label("Your message").fill("The cart page reads well.")
    page.get_by_role("button", name="Send feedback").click()
    expect(page.get_by_role("heading", name="Thank you for your feedback")).to_be_visible()


@pytest.mark.story("US-13")
def test_no_staff_page_has_a_serious_or_critical_accessibility_violation(page: Page) -> None:
    sign_in_as_admin(page)
    send_feedback(page)
    paths = list(LISTS)
    for list_path, pattern in DETAILS:
        detail = first_link(page, list_path, pattern)
        if detail is not None:
            paths.append(detail)
    product = next(path for path in paths if re.match(r"^/staff/products/\d+$", path))
    paths.append(f"{product}/images")
    axe = Axe()

    found: dict[str, list[str]] = {}
    for path in paths:
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        blocking = blocking_violations(page, axe)
        if blocking:
            found[path] = blocking

    assert found == {}
    # every list, and one customer, category, product, variant's stock and images page (the
    # demo shop may have no staff member, order or return yet: their pages are checked when there)
    assert len(paths) >= len(LISTS) + 5


@pytest.mark.story("US-13")
def test_no_storefront_main_page_has_a_serious_or_critical_accessibility_violation(
    page: Page,
) -> None:
    page.goto("/")
    product = page.get_by_role("main").get_by_role("article").get_by_role("link").first
    product_path = urlsplit(product.get_attribute("href") or "").path
    category = page.get_by_role("region", name="Shop by category").get_by_role("link").first
    category_path = urlsplit(category.get_attribute("href") or "").path
    axe = Axe()

    found: dict[str, list[str]] = {}
    for path in [*STOREFRONT, product_path, category_path]:
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        blocking = blocking_violations(page, axe)
        if blocking:
            found[path] = blocking

    assert found == {}
