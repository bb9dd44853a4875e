"""The public catalogue over the API: the storefront's filters and sorts, cursors, the tree."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel.catalog.models import Category, ProductStatus
from funnel.core.api.paging import encode_cursor
from tests.factories.catalog import CategoryFactory, ProductFactory
from tests.support.api import problem

PRODUCTS = "/api/v1/products"


@pytest.fixture
def clothing(app: Flask) -> Category:
    """Tees in sizes and colours at several prices, in a subcategory of Clothing."""
    clothing = CategoryFactory(name="Clothing")
    tees = CategoryFactory(name="Tees", parent_id=clothing.id)
    rows = [
        ("Alpha tee", 1500, [("S", "Red"), ("M", "Red")]),
        ("Bravo tee", 2500, [("M", "Blue"), ("L", "Blue")]),
        ("Charlie tee", 1000, [("M", "Blue"), ("L", "Red")]),
        ("Delta tee", 4000, [("L", "Green")]),
    ]
    for title, price, pairs in rows:
        code = title.split()[0].upper()
        ProductFactory(
            title=title,
            category_id=tees.id,
            variants=[
                {
                    "sku": f"{code}-{size}-{colour}",
                    "price": price,
                    "stock_quantity": 0 if code == "DELTA" else 3,
                    "options": {"Size": size, "Colour": colour},
                }
                for size, colour in pairs
            ],
        )
    ProductFactory(title="Echo mug", category_id=CategoryFactory(name="Kitchen").id)
    ProductFactory(title="Draft tee", category_id=tees.id, status=ProductStatus.DRAFT)
    return clothing


def titles(client: FlaskClient, query: dict[str, object]) -> list[str]:
    response = client.get(PRODUCTS, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["title"] for item in response.get_json()["items"]]


@pytest.mark.story("US-41")
def test_products_list_active_products_newest_first_with_money_objects(
    client: FlaskClient, clothing: Category
) -> None:
    response = client.get(PRODUCTS)

    body = response.get_json()
    assert [item["title"] for item in body["items"]] == [
        "Echo mug", "Delta tee", "Charlie tee", "Bravo tee", "Alpha tee"
    ]  # fmt: skip
    assert body["next_cursor"] is None
    charlie = body["items"][2]
    assert charlie["price_from"] == {"amount": 1000, "currency": "USD"}
    assert charlie["category"] == "tees"
    assert charlie["image"] is None


@pytest.mark.story("US-41")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"category": "clothing"}, ["Delta tee", "Charlie tee", "Bravo tee", "Alpha tee"]),
        ({"category": "clothing", "sort": "price-asc"},
         ["Charlie tee", "Alpha tee", "Bravo tee", "Delta tee"]),
        ({"sort": "name", "category": "tees"},
         ["Alpha tee", "Bravo tee", "Charlie tee", "Delta tee"]),
        ({"min_price": "15", "max_price": "25.00", "sort": "price-asc"},
         ["Alpha tee", "Bravo tee"]),
        ({"size": "L", "colour": "Red"}, ["Charlie tee"]),
        ({"size": ["S", "L"], "sort": "name"},
         ["Alpha tee", "Bravo tee", "Charlie tee", "Delta tee"]),
        ({"q": "tee", "sort": "price-desc"},
         ["Delta tee", "Bravo tee", "Alpha tee", "Charlie tee"]),
        ({"q": "bravo"}, ["Bravo tee"]),
        ({"q": "CHARLIE-L-RED"}, ["Charlie tee"]),
        ({"q": "tee", "category": "kitchen"}, []),
        ({"size": "L\x00", "Col\x00our": "Red"}, []),
        ({"q": "tee\x00", "category": "tees", "sort": "name"},
         ["Alpha tee", "Bravo tee", "Charlie tee", "Delta tee"]),
        ({"q": "   "}, ["Echo mug", "Delta tee", "Charlie tee", "Bravo tee", "Alpha tee"]),
    ],
)  # fmt: skip
def test_products_take_the_storefronts_filters_and_sorts(
    client: FlaskClient, clothing: Category, query: dict[str, object], expected: list[str]
) -> None:
    assert titles(client, query) == expected


@pytest.mark.story("US-41")
def test_a_cursor_walks_every_page_once(client: FlaskClient, clothing: Category) -> None:
    seen: list[str] = []
    query: dict[str, object] = {"limit": 2, "sort": "name"}
    pages = 0
    while True:
        body = client.get(PRODUCTS, query_string=query).get_json()
        seen += [item["title"] for item in body["items"]]
        pages += 1
        if body["next_cursor"] is None:
            break
        query = {"cursor": body["next_cursor"], "sort": "name"}

    assert pages == 3
    assert seen == ["Alpha tee", "Bravo tee", "Charlie tee", "Delta tee", "Echo mug"]


@pytest.mark.story("US-41")
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": encode_cursor({"page": 0, "limit": 2})}, "cursor"),
        ({"cursor": encode_cursor({"page": 2})}, "cursor"),
        ({"cursor": "\u2603" * 10}, "cursor"),
        ({"limit": "101"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "99999999999999999999999"}, "limit"),
        ({"sort": "cheapest"}, "sort"),
        ({"min_price": "abc"}, "min_price"),
        ({"min_price": "1e999"}, "min_price"),
        ({"min_price": "30", "max_price": "10"}, "min_price"),
        ({"category": "no-such-category"}, "category"),
    ],
)
def test_bad_listing_parameters_are_422_problems_naming_the_field(
    client: FlaskClient, clothing: Category, query: dict[str, str], field: str
) -> None:
    response = client.get(PRODUCTS, query_string=query)

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert list(response.get_json()["fields"]) == [field]


@pytest.mark.story("US-41")
def test_a_product_has_its_variants_options_prices_and_stock(
    client: FlaskClient, clothing: Category
) -> None:
    response = client.get(f"{PRODUCTS}/charlie-tee")

    assert response.status_code == 200
    body = response.get_json()
    assert body["title"] == "Charlie tee"
    assert body["in_stock"] is True
    assert body["options"] == [
        {"name": "Size", "values": ["M", "L"]},
        {"name": "Colour", "values": ["Blue", "Red"]},
    ]
    assert [
        (variant["sku"], variant["price"], variant["in_stock"], variant["options"])
        for variant in body["variants"]
    ] == [
        ("CHARLIE-M-BLUE", {"amount": 1000, "currency": "USD"}, True,
         {"Size": "M", "Colour": "Blue"}),
        ("CHARLIE-L-RED", {"amount": 1000, "currency": "USD"}, True,
         {"Size": "L", "Colour": "Red"}),
    ]  # fmt: skip
    assert body["images"] == []


def test_a_product_out_of_stock_says_so(client: FlaskClient, clothing: Category) -> None:
    body = client.get(f"{PRODUCTS}/delta-tee").get_json()

    assert body["in_stock"] is False
    assert [variant["in_stock"] for variant in body["variants"]] == [False]


@pytest.mark.parametrize("slug", ["draft-tee", "nothing", "x" * 500, "%00"])
def test_unknown_and_draft_products_are_404(
    client: FlaskClient, clothing: Category, slug: str
) -> None:
    problem(client.get(f"{PRODUCTS}/{slug}"), 404, "product_not_found")


@pytest.mark.story("US-41")
def test_categories_are_a_tree(client: FlaskClient, clothing: Category) -> None:
    response = client.get("/api/v1/categories")

    assert response.status_code == 200

    def shape(nodes: list[dict]) -> list[object]:
        return [(node["slug"], shape(node["children"])) for node in nodes]

    assert shape(response.get_json()["items"]) == [
        ("clothing", [("tees", [])]),
        ("kitchen", []),
    ]


def test_shipping_methods_come_from_the_checkout_settings(client: FlaskClient) -> None:
    response = client.get("/api/v1/shipping-methods")

    assert response.get_json() == {
        "items": [
            {"code": "standard", "name": "Standard",
             "price": {"amount": 499, "currency": "USD"}, "is_free_above_threshold": True,
             "min_delivery_days": None, "max_delivery_days": None},
            {"code": "express", "name": "Express",
             "price": {"amount": 1499, "currency": "USD"}, "is_free_above_threshold": False,
             "min_delivery_days": None, "max_delivery_days": None},
        ],
        "free_shipping_threshold": {"amount": 5000, "currency": "USD"},
    }  # fmt: skip


@pytest.mark.config(PAYMENT_GATEWAYS="manual")
def test_payment_methods_are_the_enabled_gateways(client: FlaskClient) -> None:
    response = client.get("/api/v1/payment-methods")

    assert response.get_json() == {"items": [{"code": "manual", "label": "Bank transfer"}]}


@pytest.mark.story("US-41")
def test_the_product_list_runs_the_same_few_statements_and_no_facet_counts(
    client: FlaskClient, sql_statements: list[str]
) -> None:
    # given products with options (the storefront counts products per option value for its
    # filters; the API returns no filters, so it must not pay for them)
    lamps = CategoryFactory(name="Lamps")
    for number in range(6):
        ProductFactory(
            title=f"Lamp {number}",
            category_id=lamps.id,
            variants=[{"sku": f"LAMP-{number}-{c}", "options": {"Colour": c}} for c in "RB"],
        )
    urls = [
        "/api/v1/products",
        "/api/v1/products?category=lamps&sort=price-asc",
        "/api/v1/products?q=lamp&colour=R",
    ]

    # when each list is read
    counts = []
    for url in urls:
        sql_statements.clear()
        response = client.get(url)
        assert response.status_code == 200
        assert len(response.get_json()["items"]) >= 1
        counts.append(len(sql_statements))
        facet_queries = [
            s for s in sql_statements if s.startswith("SELECT variant_option_values.name")
        ]
        assert facet_queries == [], url

    # then each ran a handful of statements
    assert max(counts) <= 6, counts
