"""The staff lists page 50 at a time, keeping their filters in the page links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from tests.factories.accounts import UserFactory


def test_the_customer_list_links_to_the_next_page_with_its_search(
    staff_user: Any, signed_in: Callable[[Any], FlaskClient]
) -> None:
    # given 51 customers whose email matches a search
    for number in range(51):
        UserFactory(email=f"shopper{number:02d}@example.com")
    browser = signed_in(staff_user)

    # when staff search them, on the first page and then on the second
    first = browser.get("/staff/customers?q=shopper").get_data(as_text=True)
    second = browser.get("/staff/customers?q=shopper&page=2").get_data(as_text=True)

    # then each page names its place and links to the other, keeping the search
    assert "Page 1 of 2" in first
    assert '<a href="/staff/customers?page=2&amp;q=shopper" rel="next">Next page</a>' in first
    assert "Previous page" not in first
    assert "Page 2 of 2" in second
    assert '<a href="/staff/customers?page=1&amp;q=shopper" rel="prev">Previous page</a>' in second
    assert "Next page" not in second
