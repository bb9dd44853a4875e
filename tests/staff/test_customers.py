"""Staff: the dashboard and the list of customers (US-02: staff see who is verified)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from funnel.accounts.models import User
from tests.factories.accounts import UserFactory


def emails_on(page: str) -> list[str]:
    return re.findall(r'<td><a href="/staff/customers/\d+">([^<]+@[^<]+)</a></td>', page)


@pytest.fixture
def staff_browser(staff_user: User, signed_in) -> FlaskClient:
    return signed_in(staff_user)


def test_the_dashboard_shows_its_heading_counts_and_links(
    staff_browser: FlaskClient, customer: User
) -> None:
    page = staff_browser.get("/staff/").text

    assert "<h1>Staff dashboard</h1>" in page
    assert '<a href="/staff/customers">Customers</a>' in page
    assert "<header>Customers</header><strong>1</strong>" in page
    assert "<header>Unverified customers</header><strong>1</strong>" in page
    assert "<header>Staff and admins</header><strong>1</strong>" in page


@pytest.mark.story("US-02")
def test_customers_are_listed_newest_first_with_role_verification_and_date(
    staff_browser: FlaskClient,
) -> None:
    base = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    UserFactory(email="old@example.com", created_at=base, is_email_verified=True)
    UserFactory(email="new@example.com", created_at=base + timedelta(days=1))

    page = staff_browser.get("/staff/customers").text

    assert emails_on(page) == ["staff@example.com", "new@example.com", "old@example.com"]
    assert (
        "new@example.com</a></td>\n      <td>customer</td>\n      <td>No</td>\n"
        "      <td>Active</td>\n"
        '      <td><time datetime="2026-01-11T12:00:00+00:00">2026-01-11</time></td>'
    ) in page
    assert "old@example.com</a></td>\n      <td>customer</td>\n      <td>Yes</td>" in page


def test_customers_can_be_searched_by_email_in_any_case(staff_browser: FlaskClient) -> None:
    UserFactory(email="ann.smith@example.com")
    UserFactory(email="bob@example.org")
    UserFactory(email="annie@example.net")

    page = staff_browser.get("/staff/customers", query_string={"q": "  ANN"}).text

    assert sorted(emails_on(page)) == ["ann.smith@example.com", "annie@example.net"]
    assert "2 accounts matching" in page


@pytest.mark.parametrize("term", ["%", "_", "\\", "' OR 1=1 --", "a" * 1000, "\x00zz"])
def test_search_characters_are_taken_literally(staff_browser: FlaskClient, term: str) -> None:
    UserFactory(email="ann@example.com")

    response = staff_browser.get("/staff/customers", query_string={"q": term})

    assert response.status_code == 200
    assert emails_on(response.text) == []


def test_customers_are_paginated_by_50(staff_browser: FlaskClient) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for number in range(60):
        UserFactory(email=f"c{number:02}@example.com", created_at=base + timedelta(minutes=number))

    first = staff_browser.get("/staff/customers").text
    second = staff_browser.get("/staff/customers?page=2").text

    assert len(emails_on(first)) == 50
    # the staff member (created last) leads page 1, so page 2 holds the 11 oldest
    assert emails_on(second) == [f"c{number:02}@example.com" for number in range(10, -1, -1)]
    assert "Page 2 of 2" in second
    assert 'href="/staff/customers?page=2"' in first


@pytest.mark.parametrize("page", ["0", "-3", "abc", "99999999999999", "7"])
def test_odd_page_numbers_never_fail(staff_browser: FlaskClient, page: str) -> None:
    response = staff_browser.get("/staff/customers", query_string={"page": page})

    assert response.status_code == 200


def test_control_characters_in_the_search_are_ignored(staff_browser: FlaskClient) -> None:
    UserFactory(email="ann@example.com")

    response = staff_browser.get("/staff/customers", query_string={"q": "an\x00n\x1f"})

    assert response.status_code == 200
    assert emails_on(response.text) == ["ann@example.com"]
