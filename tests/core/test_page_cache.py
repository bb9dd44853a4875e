"""Storefront pages every unknown visitor sees alike are kept a few seconds per worker (US-75):
a change shows within that time, and nobody is ever served what is someone else's (a signed-in
shopper's page, a guest's cart count, a form's CSRF token)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf

from funnel.analytics.models import FunnelEvent, FunnelStage
from funnel.cart.access import CART_COOKIE
from funnel.catalog import services as catalog
from funnel.catalog.models import Product, Variant
from funnel.core.money import Money
from funnel.core.page_cache import KeptPage, PageCache, kept_page, page_cache
from funnel.extensions import db
from funnel.inventory import services as inventory
from tests.factories.catalog import CategoryFactory, ProductFactory

# A test's own config marker replaces this one (the closest wins): each repeats the seconds.
pytestmark = [pytest.mark.story("US-75"), pytest.mark.config(PAGE_CACHE_SECONDS=2)]

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PRICE = re.compile(r"\$\d+\.\d\d")
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def clock(app: Flask) -> list[float]:
    """The page cache's clock, moved on by the test (seconds)."""
    now = [1000.0]
    page_cache(app).now = lambda: now[0]
    return now


@pytest.fixture
def lamp(app: Flask) -> Product:
    lamps = CategoryFactory(name="Lamps")
    return ProductFactory(
        title="Desk lamp",
        category_id=lamps.id,
        variants=[{"sku": "DESK-LAMP", "price": 2500, "stock_quantity": 3}],
    )


def visitor(app: Flask) -> FlaskClient:
    """A new browser nobody knows."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = BROWSER
    return client


def reprice(product: Product, amount: int) -> None:
    variant_id = db.session.scalar(sa.select(Variant.id).where(Variant.product_id == product.id))
    catalog.update_variant(variant_id, price=Money(amount, "USD"))


def prices(client: FlaskClient, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    return PRICE.findall(response.get_data(as_text=True))


@pytest.mark.parametrize("url", ["/", "/c/lamps", "/search?q=lamp", "/p/desk-lamp"])
def test_a_new_price_shows_to_unknown_visitors_within_the_kept_seconds(
    app: Flask, lamp: Product, clock: list[float], url: str
) -> None:
    # given the page seen once by an unknown visitor
    assert "$25.00" in prices(visitor(app), url)

    # when the price changes
    reprice(lamp, 3100)

    # then the next unknown visitors see the kept page until 2 seconds have passed
    clock[0] += 1.9
    assert "$25.00" in prices(visitor(app), url)
    assert "$31.00" not in prices(visitor(app), url)

    # and the new price after that, on the very next request
    clock[0] += 0.1
    assert "$31.00" in prices(visitor(app), url)
    assert "$25.00" not in prices(visitor(app), url)


def test_a_kept_product_page_shows_its_availability_within_the_kept_seconds(
    app: Flask, lamp: Product, clock: list[float]
) -> None:
    variant_id = db.session.scalar(sa.select(Variant.id).where(Variant.product_id == lamp.id))
    assert "In stock" in visitor(app).get("/p/desk-lamp").get_data(as_text=True)

    # when the last units are sold (a stock change, not a catalogue change)
    inventory.adjust_stock(variant_id, new_level=0, reason="counted")

    # then an unknown visitor sees "Out of stock" 2 seconds later at the latest
    clock[0] += 2
    assert "Out of stock" in visitor(app).get("/p/desk-lamp").get_data(as_text=True)


def test_a_signed_in_shopper_is_never_served_a_kept_page(
    app: Flask, lamp: Product, clock: list[float], customer: object, signed_in: object
) -> None:
    # given the product page kept for unknown visitors
    assert "$25.00" in prices(visitor(app), "/p/desk-lamp")
    shopper = signed_in(customer)

    # when the price changes, then the signed-in shopper sees it at once (their own page)
    reprice(lamp, 3100)
    html = shopper.get("/p/desk-lamp").get_data(as_text=True)
    assert "$31.00" in html
    assert "My account" in html

    # and their page was not kept for the unknown visitors either
    assert "$25.00" in prices(visitor(app), "/p/desk-lamp")
    assert "My account" not in visitor(app).get("/p/desk-lamp").get_data(as_text=True)


def test_a_guest_with_a_cart_sees_their_own_item_count(
    app: Flask, lamp: Product, clock: list[float]
) -> None:
    # given the category page kept with an empty cart in its navigation
    assert "Cart (0)" in visitor(app).get("/c/lamps").get_data(as_text=True)
    variant_id = db.session.scalar(sa.select(Variant.id).where(Variant.product_id == lamp.id))

    # when a guest adds 2 lamps to their cart
    guest = visitor(app)
    guest.get("/p/desk-lamp")
    response = guest.post("/cart/lines", data={"variant_id": variant_id, "quantity": "2"})
    assert response.status_code == 303
    assert guest.get_cookie(CART_COOKIE) is not None

    # then their category page counts their cart, and other visitors still see theirs empty
    assert "Cart (2)" in guest.get("/c/lamps").get_data(as_text=True)
    assert "Cart (0)" in visitor(app).get("/c/lamps").get_data(as_text=True)


@pytest.mark.config(PAGE_CACHE_SECONDS=2, WTF_CSRF_ENABLED=True)
def test_each_visitor_of_a_kept_product_page_gets_a_token_of_their_own_that_works(
    app: Flask, lamp: Product, clock: list[float]
) -> None:
    variant_id = db.session.scalar(sa.select(Variant.id).where(Variant.product_id == lamp.id))
    first, second = visitor(app), visitor(app)

    # when two unknown visitors open the same product page (the second is served the kept one)
    first_tokens = TOKEN.findall(first.get("/p/desk-lamp").get_data(as_text=True))
    second_tokens = TOKEN.findall(second.get("/p/desk-lamp").get_data(as_text=True))

    # then the page was kept once (its token a placeholder), and each page's form carries that
    # visitor's own token
    assert len(page_cache(app)) == 1
    assert len(first_tokens) == len(second_tokens) == 1
    assert first_tokens != second_tokens
    assert page_cache(app).token_placeholder not in "".join(first_tokens + second_tokens)

    # and the second visitor's token adds to their cart; the first one's is refused to them
    refused = second.post(
        "/cart/lines",
        data={"variant_id": variant_id, "quantity": "1", "csrf_token": first_tokens[0]},
    )
    assert refused.status_code == 400
    added = second.post(
        "/cart/lines",
        data={"variant_id": variant_id, "quantity": "1", "csrf_token": second_tokens[0]},
    )
    assert added.status_code == 303


def test_every_view_of_a_kept_product_page_is_counted(
    app: Flask, lamp: Product, clock: list[float]
) -> None:
    lamp_id = lamp.id

    # when three browsers open the product page (the last two are served the kept page)
    for _ in range(3):
        assert visitor(app).get("/p/desk-lamp").status_code == 200

    # then the funnel counts three product views of the lamp
    db.session.close()
    views = db.session.scalars(
        sa.select(FunnelEvent.product_id).where(FunnelEvent.stage == FunnelStage.PRODUCT_VIEW)
    ).all()
    assert views == [lamp_id, lamp_id, lamp_id]


def test_a_kept_page_is_served_without_reading_the_catalogue(
    app: Flask, lamp: Product, clock: list[float]
) -> None:
    statements: list[str] = []

    def count(*arguments: object) -> None:
        statements.append(str(arguments[2]))

    visitor(app).get("/c/lamps")
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        html = visitor(app).get("/c/lamps").get_data(as_text=True)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)

    assert "Desk lamp" in html
    assert [s for s in statements if "products" in s or "categories" in s] == []


def test_a_page_not_found_is_not_kept(app: Flask, clock: list[float]) -> None:
    # given a category that does not exist yet
    assert visitor(app).get("/c/garden").status_code == 404

    # when staff make it, then the next visitor finds it at once
    CategoryFactory(name="Garden")
    assert visitor(app).get("/c/garden").status_code == 200


def test_each_filter_sort_and_page_is_a_page_of_its_own(
    app: Flask, lamp: Product, clock: list[float]
) -> None:
    ProductFactory(
        title="Floor lamp",
        category_id=lamp.category_id,
        variants=[{"sku": "FLOOR-LAMP", "price": 9900}],
    )
    assert prices(visitor(app), "/c/lamps?sort=price-asc") == ["$25.00", "$99.00"]
    assert prices(visitor(app), "/c/lamps?sort=price-desc") == ["$99.00", "$25.00"]
    assert prices(visitor(app), "/search?q=floor") == ["$99.00"]
    assert prices(visitor(app), "/search?q=desk") == ["$25.00"]


@pytest.mark.config(PAGE_CACHE_SECONDS=0)
def test_with_no_kept_seconds_every_page_is_rendered_afresh(app: Flask, lamp: Product) -> None:
    assert "$25.00" in prices(visitor(app), "/p/desk-lamp")
    reprice(lamp, 3100)
    assert "$31.00" in prices(visitor(app), "/p/desk-lamp")
    assert len(page_cache(app)) == 0


def test_the_cache_keeps_at_most_its_bytes_dropping_the_least_recently_served() -> None:
    cache = PageCache(seconds=2, max_bytes=25)
    for name in ("a", "b", "c"):
        cache.put((name,), KeptPage(name * 10), now=0)

    # the oldest went to make room for the third
    assert cache.get(("a",), now=1) is None
    assert cache.get(("b",), now=1) is not None  # now the most recently served
    cache.put(("d",), KeptPage("d" * 10), now=1)
    assert cache.get(("c",), now=1) is None
    assert [cache.get((name,), now=1) is not None for name in ("b", "d")] == [True, True]

    # a page larger than the whole budget is served but never kept
    cache.put(("huge",), KeptPage("x" * 26), now=1)
    assert cache.get(("huge",), now=1) is None
    # and each page expires after its seconds
    assert cache.get(("d",), now=2.99) is not None
    assert cache.get(("d",), now=3.0) is None


def api_prices(client: FlaskClient, url: str, headers: dict[str, str] | None = None) -> list[int]:
    response = client.get(url, headers=headers or {})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    items = body.get("items", [body])
    return [item["price_from"]["amount"] for item in items]


@pytest.mark.parametrize("url", ["/api/v1/products", "/api/v1/products/desk-lamp"])
def test_the_api_catalogue_is_kept_for_anonymous_calls_within_the_kept_seconds(
    app: Flask, lamp: Product, clock: list[float], url: str
) -> None:
    # given the answer kept for anonymous calls
    assert api_prices(app.test_client(), url) == [2500]

    # when the price changes, then anonymous calls get the kept answer for 2 seconds
    reprice(lamp, 3100)
    clock[0] += 1.9
    assert api_prices(app.test_client(), url) == [2500]
    clock[0] += 0.1
    assert api_prices(app.test_client(), url) == [3100]


def test_an_api_call_with_a_token_is_answered_afresh(
    app: Flask, lamp: Product, clock: list[float], customer: object, bearer: Any
) -> None:
    url = "/api/v1/products/desk-lamp"
    assert api_prices(app.test_client(), url) == [2500]
    reprice(lamp, 3100)

    assert api_prices(app.test_client(), url, bearer(customer)) == [3100]
    assert api_prices(app.test_client(), url) == [2500]


def test_every_api_view_of_a_kept_product_is_counted(
    app: Flask, lamp: Product, clock: list[float]
) -> None:
    lamp_id = lamp.id
    visitors = [f"visitor-{number:02d}-abcdefghijkl" for number in range(3)]

    for visitor_id in visitors:
        response = app.test_client().get(
            "/api/v1/products/desk-lamp", headers={"Funnel-Visitor": visitor_id}
        )
        assert response.status_code == 200

    db.session.close()
    views = db.session.execute(
        sa.select(FunnelEvent.visitor_id, FunnelEvent.product_id)
        .where(FunnelEvent.stage == FunnelStage.PRODUCT_VIEW)
        .order_by(FunnelEvent.visitor_id)
    ).all()
    assert [tuple(view) for view in views] == [(visitor_id, lamp_id) for visitor_id in visitors]


@pytest.mark.own_app
@pytest.mark.config(PAGE_CACHE_SECONDS=2, WTF_CSRF_ENABLED=True)
def test_a_page_holding_a_real_token_is_served_to_its_visitor_and_never_kept(
    app: Flask, clock: list[float]
) -> None:
    # given a page whose form renders its token through Flask-WTF itself (as a WTForms form's
    # hidden field does), and one through the templates' csrf_token()
    def by_flask_wtf() -> str:
        return kept_page(
            lambda: KeptPage(f'<input name="csrf_token" value="{generate_csrf()}">')
        ).body

    def by_the_template() -> str:
        return kept_page(
            lambda: KeptPage(
                render_template_string('<input name="csrf_token" value="{{ csrf_token() }}">')
            )
        ).body

    app.add_url_rule("/_test/real-token", "real_token", by_flask_wtf)
    app.add_url_rule("/_test/template-token", "template_token", by_the_template)

    # when two unknown visitors open each
    real = [
        TOKEN.findall(visitor(app).get("/_test/real-token").get_data(as_text=True)) for _ in "ab"
    ]
    kept = [
        TOKEN.findall(visitor(app).get("/_test/template-token").get_data(as_text=True))
        for _ in "ab"
    ]

    # then each got a token of their own both times, and only the template's page was kept
    assert real[0] != real[1]
    assert kept[0] != kept[1]
    assert len(page_cache(app)) == 1
