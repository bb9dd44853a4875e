"""The analytics edge: visitor cookie, one visit per visitor and day, and what is not tracked.

The ``shop`` fixture registers ``analytics.tracking`` on the test app (as ``create_app`` will), with
staff excluded, plus three small pages: a plain page, a product page that tracks a product
view, and a form that accepts a POST.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_login import current_user
from sqlalchemy import select
from werkzeug.test import TestResponse

from funnel.analytics import services, tracking
from funnel.analytics.models import FunnelEvent
from funnel.core import clock
from funnel.extensions import db

# The shop adds its own routes and tracking hooks to the app.
pytestmark = pytest.mark.own_app

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    now = [NOON]
    monkeypatch.setattr(clock, "utcnow", lambda: now[0])
    return now


@pytest.fixture
def shop(app: Flask, frozen: list) -> Flask:
    tracking.init_app(
        app, is_excluded=lambda: current_user.is_authenticated and current_user.is_staff
    )

    def product(product_id: int) -> str:
        tracking.track("product_view", product_id=product_id)
        return "product"

    app.add_url_rule("/_test/page", "test_page", lambda: "page")
    app.add_url_rule("/_test/product/<int:product_id>", "test_product", product)
    app.add_url_rule("/_test/form", "test_form", lambda: "posted", methods=["POST"])
    return app


@pytest.fixture
def browser(shop: Flask) -> FlaskClient:
    client = shop.test_client()
    client.environ_base["HTTP_USER_AGENT"] = BROWSER
    return client


def set_cookies(response: TestResponse) -> dict[str, str]:
    """The analytics Set-Cookie headers of a response, by cookie name."""
    headers = response.headers.getlist("Set-Cookie")
    cookies = {header.split("=", 1)[0]: header for header in headers}
    return {name: header for name, header in cookies.items() if name.startswith("funnel_visit")}


def events() -> list[tuple[str, str, int | None, int | None]]:
    db.session.close()
    rows = db.session.execute(
        select(
            FunnelEvent.stage, FunnelEvent.visitor_id, FunnelEvent.user_id, FunnelEvent.product_id
        ).order_by(FunnelEvent.id)
    )
    return [(stage.value, *rest) for stage, *rest in rows]


@pytest.mark.story("US-37")
def test_a_first_page_view_gives_a_visitor_cookie_and_records_a_visit(browser: FlaskClient) -> None:
    # when a new browser opens a page
    response = browser.get("/_test/page")

    # then it gets a random, long-lived, HttpOnly, SameSite=Lax visitor id (not Secure in tests)
    assert response.status_code == 200
    cookies = set_cookies(response)
    assert sorted(cookies) == ["funnel_visit_day", "funnel_visitor"]
    visitor_id = browser.get_cookie("funnel_visitor").value
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", visitor_id)
    attributes = cookies["funnel_visitor"].split("; ")[1:]
    assert [attribute for attribute in attributes if not attribute.startswith("Expires=")] == [
        "Max-Age=31536000",
        "HttpOnly",
        "Path=/",
        "SameSite=Lax",
    ]
    assert len([attribute for attribute in attributes if attribute.startswith("Expires=")]) == 1
    # and today's visit is recorded, remembered by a day cookie
    assert browser.get_cookie("funnel_visit_day").value == "2026-03-10"
    assert events() == [("visit", visitor_id, None, None)]


@pytest.mark.story("US-37")
def test_later_requests_that_day_touch_no_database(
    browser: FlaskClient, sql_statements: list[str]
) -> None:
    # given a browser that has visited today
    browser.get("/_test/page")
    sql_statements.clear()

    # when it opens three more pages
    responses = [browser.get("/_test/page") for _ in range(3)]

    # then no statement ran and no cookie was set again
    assert [response.status_code for response in responses] == [200, 200, 200]
    assert [set_cookies(response) for response in responses] == [{}, {}, {}]
    assert sql_statements == []
    assert len(events()) == 1


@pytest.mark.story("US-37")
def test_the_next_day_counts_a_new_visit_of_the_same_visitor(
    browser: FlaskClient, frozen: list
) -> None:
    # given a browser that visited today
    browser.get("/_test/page")
    visitor_id = browser.get_cookie("funnel_visitor").value

    # when it comes back tomorrow
    frozen[0] = NOON + timedelta(days=1)
    browser.get("/_test/page")

    # then a second visit is recorded, for the same visitor
    assert events() == [("visit", visitor_id, None, None), ("visit", visitor_id, None, None)]
    assert browser.get_cookie("funnel_visit_day").value == "2026-03-11"


def test_a_lost_day_cookie_costs_one_query_and_no_second_visit(browser: FlaskClient) -> None:
    # given a browser that visited today, then lost its day cookie
    browser.get("/_test/page")
    browser.delete_cookie("funnel_visit_day")

    # when it opens another page, then the visit is not counted twice
    browser.get("/_test/page")
    assert len(events()) == 1
    assert browser.get_cookie("funnel_visit_day").value == "2026-03-10"


@pytest.mark.config(SESSION_COOKIE_SECURE=True)
def test_the_cookies_are_secure_when_the_session_cookie_is(browser: FlaskClient) -> None:
    response = browser.get("/_test/page")

    cookies = set_cookies(response)
    assert "; Secure" in cookies["funnel_visitor"]
    assert "; Secure" in cookies["funnel_visit_day"]


@pytest.mark.parametrize(
    "path",
    ["/static/css/funnel.css", "/media/a.png", "/api/v1/products", "/health", "/webhooks/test"],
)
def test_files_api_health_and_webhooks_are_not_tracked(browser: FlaskClient, path: str) -> None:
    response = browser.get(path)
    response.close()

    assert set_cookies(response) == {}
    assert events() == []


@pytest.mark.story("US-37")
@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "facebookexternalhit/1.1",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "",
    ],
)
def test_bots_are_not_counted(shop: Flask, user_agent: str) -> None:
    client = shop.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent

    page = client.get("/_test/page")
    product = client.get("/_test/product/3")

    assert (page.status_code, product.status_code) == (200, 200)
    assert set_cookies(page) == set_cookies(product) == {}
    assert events() == []


@pytest.mark.story("US-37")
@pytest.mark.parametrize("header", [("DNT", "1"), ("Sec-GPC", "1")])
def test_do_not_track_and_global_privacy_control_are_honoured(
    browser: FlaskClient, header: tuple[str, str]
) -> None:
    # when a browser asking not to be tracked opens a page and a product
    page = browser.get("/_test/page", headers=[header])
    product = browser.get("/_test/product/3", headers=[header])

    # then the shop works, but sets no cookie and records nothing
    assert (page.status_code, product.get_data(as_text=True)) == (200, "product")
    assert set_cookies(page) == set_cookies(product) == {}
    assert events() == []


@pytest.mark.story("US-37")
def test_a_tracked_product_view_names_the_visitor_user_and_product(
    browser: FlaskClient, customer: object, signed_in: object
) -> None:
    # given a signed-in customer's browser
    client = signed_in(customer, browser)
    customer_id = customer.id

    # when they open a product page
    client.get("/_test/product/42")

    # then their visit and the product view are recorded with their ids
    visitor_id = client.get_cookie("funnel_visitor").value
    assert events() == [
        ("product_view", visitor_id, customer_id, 42),
        ("visit", visitor_id, customer_id, None),
    ]


@pytest.mark.story("US-37")
def test_staff_are_not_counted(browser: FlaskClient, staff_user: object, signed_in: object) -> None:
    client = signed_in(staff_user, browser)

    page = client.get("/_test/page")
    client.get("/_test/product/42")

    assert page.status_code == 200
    assert set_cookies(page) == {}
    assert events() == []


def test_error_pages_and_posts_are_not_visits(browser: FlaskClient) -> None:
    # when a new browser's first requests are a missing page and a form post
    missing = browser.get("/_test/no-such-page")
    posted = browser.post("/_test/form")

    # then it has a visitor id, but no visit was counted
    assert (missing.status_code, posted.status_code) == (404, 200)
    assert sorted(set_cookies(missing)) == ["funnel_visitor"]
    assert set_cookies(posted) == {}
    assert events() == []


def test_a_malformed_visitor_cookie_is_replaced(browser: FlaskClient) -> None:
    browser.set_cookie("funnel_visitor", "<script>")

    browser.get("/_test/page")

    visitor_id = browser.get_cookie("funnel_visitor").value
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", visitor_id)
    assert events() == [("visit", visitor_id, None, None)]


def test_a_failure_to_record_never_breaks_the_page_and_is_retried(
    browser: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the database refuses the visit once
    real_record_visit = services.record_visit

    def failing(*_args: object, **_kwargs: object) -> bool:
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(services, "record_visit", failing)

    # when a page is opened, then it is served, without a day cookie
    response = browser.get("/_test/page")
    assert response.status_code == 200
    assert sorted(set_cookies(response)) == ["funnel_visitor"]

    # when the database is back, the next page counts the visit
    monkeypatch.setattr(services, "record_visit", real_record_visit)
    browser.get("/_test/page")
    assert len(events()) == 1


def test_outside_a_request_there_is_no_visitor(app: Flask) -> None:
    assert tracking.current_visitor_id() is None
    assert tracking.track("visit") is None
