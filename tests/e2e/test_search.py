"""Forgiving search in a real browser (US-59): suggestions appear as you type (htmx, within the
content security policy), a suggestion leads to its product, and a misspelt search offers
"did you mean" with the products it meant."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.problems import PageProblems

pytestmark = [pytest.mark.e2e, pytest.mark.story("US-60")]


def a_product_title(page: Page) -> str:
    page.goto("/")
    heading = page.get_by_role("main").get_by_role("article").get_by_role("heading").first
    return heading.inner_text().strip()


def test_suggestions_appear_as_you_type_and_lead_to_the_product(
    page: Page, page_problems: PageProblems
) -> None:
    # given a product of the demo catalogue
    title = a_product_title(page)
    first_word = title.split()[0].lower()

    # when a shopper types the start of its first word in the search box
    box = page.get_by_role("navigation", name="Main").get_by_role("searchbox")
    box.press_sequentially(first_word[:4], delay=50)

    # then a short list of suggestions appears under it, and one of them is the product
    suggestions = page.get_by_role("list", name=re.compile("^Suggestions for"))
    expect(suggestions).to_be_visible()
    expect(suggestions.get_by_role("link", name=title, exact=True)).to_be_visible()

    # when the shopper picks it, then its page opens
    suggestions.get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    assert page_problems == PageProblems()


def test_a_misspelt_search_offers_did_you_mean(page: Page, page_problems: PageProblems) -> None:
    # given a product with a word of 6 letters or more, which the shopper misspells (its
    # third letter left out)
    page.goto("/")
    headings = page.get_by_role("main").get_by_role("article").get_by_role("heading")
    title, word = next(
        (title, word)
        for title in (text.strip() for text in headings.all_inner_texts())
        for word in title.lower().split()
        if word.isalpha() and len(word) >= 6
    )
    misspelt = word[:2] + word[3:]

    # when it is typed, then the suggestions forgive it too
    box = page.get_by_role("navigation", name="Main").get_by_role("searchbox")
    box.fill(misspelt)
    suggestions = page.get_by_role("list", name=f"Suggestions for “{misspelt}”")
    expect(suggestions.get_by_role("link", name=title, exact=True)).to_be_visible()

    # when it is searched with Enter (as without JavaScript)
    box.press("Enter")

    # then the results are those of the word meant, with a link to its search
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Search results for “{misspelt}”")
    expect(page.get_by_role("link", name=word, exact=True)).to_have_attribute(
        "href", f"/search?q={word}"
    )
    expect(page.get_by_role("link", name=title, exact=True).first).to_be_visible()
    assert page_problems == PageProblems()
