"""A visitor's first visit, in a real browser: register, sign out and in, browse, search, view.

Locators are the ones a person (or a screen reader) uses: roles, accessible names and labels.
Every wait is Playwright's own auto-wait inside ``expect``.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.problems import PageProblems

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple 42"


def main_navigation(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main")


def register(page: Page, email: str) -> None:
    page.goto("/")
    main_navigation(page).get_by_role("link", name="Register", exact=True).click()
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account", exact=True).click()

    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", name="My account", exact=True)).to_be_visible()


def sign_out(page: Page) -> None:
    main_navigation(page).get_by_role("button", name="Sign out", exact=True).click()

    expect(main_navigation(page).get_by_role("link", name="Sign in", exact=True)).to_be_visible()


def sign_in(page: Page, email: str) -> None:
    main_navigation(page).get_by_role("link", name="Sign in", exact=True).click()
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign in", exact=True).click()

    expect(main_navigation(page).get_by_role("link", name="My account", exact=True)).to_be_visible()


def browse_first_category(page: Page) -> list[str]:
    """Open the first category of the home page; return the product titles it lists."""
    page.goto("/")
    categories = page.get_by_role("region", name="Shop by category").get_by_role("link")
    category = categories.first.inner_text().strip()
    categories.first.click()

    expect(page.get_by_role("heading", level=1)).to_have_text(category)
    titles = product_title_links(page)
    expect(titles.first).to_be_visible()
    return [title.strip() for title in titles.all_inner_texts()]


def product_title_links(page: Page) -> Locator:
    """The links in the headings of the product cards of a listing."""
    return (
        page.get_by_role("main").get_by_role("article").get_by_role("heading").get_by_role("link")
    )


def distinctive_word(titles: list[str]) -> tuple[str, str]:
    """A word of one title that is as rare as possible among ``titles``; (word, its title)."""
    counts = Counter(
        word.lower() for title in titles for word in set(re.findall(r"[A-Za-z]{4,}", title))
    )
    candidates = [
        (counts[word.lower()], word, title)
        for title in titles
        for word in re.findall(r"[A-Za-z]{4,}", title)
    ]
    assert candidates, f"no searchable word in {titles}"
    _, word, title = min(candidates)
    return word, title


def search(page: Page, word: str, title: str) -> None:
    field = main_navigation(page).get_by_label("Search products", exact=True)
    field.fill(word)
    field.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Search results for"))
    expect(product_title_links(page).filter(has_text=title).first).to_be_visible()


def open_product(page: Page, title: str) -> None:
    product_title_links(page).get_by_text(title, exact=True).first.click()

    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    # (a product with one variant has no chooser: its button says whether it can be bought)
    expect(
        main.get_by_role("button", name=re.compile(r"^(Add to cart|Out of stock)$"))
    ).to_be_visible()
    expect(main.get_by_text(re.compile(r"\$[\d,]+\.\d\d")).first).to_be_visible()
    expect(main.get_by_text(re.compile(r"^(In stock|Out of stock)$")).first).to_be_visible()


def walk_the_journey(page: Page) -> None:
    email = f"shopper-{secrets.token_hex(6)}@example.com"
    register(page, email)
    sign_out(page)
    sign_in(page, email)
    titles = browse_first_category(page)
    word, title = distinctive_word(titles)
    search(page, word, title)
    open_product(page, title)


@pytest.mark.story("US-01", "US-03", "US-08", "US-10")
def test_a_visitor_registers_signs_in_browses_searches_and_opens_a_product(page: Page) -> None:
    walk_the_journey(page)


def test_the_journey_logs_no_console_error_csp_violation_or_foreign_request(
    page: Page, page_problems: PageProblems
) -> None:
    # given the problems of every page collected (CSP violations are console errors in Chromium)

    # when the journey is walked
    walk_the_journey(page)

    # then no page reported any
    assert page_problems == PageProblems()


def test_distinctive_word_prefers_the_rarest_word() -> None:
    titles = ["Classic Cotton Shirt", "Classic Linen Shirt", "Rugged Cotton Boots"]

    assert distinctive_word(titles) == ("Boots", "Rugged Cotton Boots")


def test_the_problem_collector_sees_a_csp_violation(
    page: Page, page_problems: PageProblems
) -> None:
    # given a page of the shop's origin whose inline script breaks the shop's CSP
    page.route(
        "**/csp-probe",
        lambda route: route.fulfill(
            status=200,
            headers={"Content-Type": "text/html", "Content-Security-Policy": "script-src 'self'"},
            body="<!doctype html><title>probe</title><script>document.title = 'ran'</script>",
        ),
    )

    # when it is opened
    with page.expect_console_message(lambda message: message.type == "error"):
        page.goto("/csp-probe")

    # then the violation was collected (so the journey's empty list means something)
    assert len(page_problems.console_errors) == 1
    assert "Content Security Policy" in page_problems.console_errors[0]
    assert page.title() == "probe"
