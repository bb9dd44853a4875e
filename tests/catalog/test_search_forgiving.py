"""US-59: forgiving search on SQLite, PostgreSQL and MariaDB: plurals, misspellings and
compounds find their products; "did you mean" for a near miss; suggestions as you type."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel.catalog import services
from funnel.catalog.listing import ListingFilters, ListingSort
from funnel.catalog.models import Product
from funnel.catalog.queries import CATEGORY_TREES, RENDERED_LISTINGS
from funnel.catalog.search import search_products
from funnel.extensions import db
from funnel.inventory import services as inventory
from tests.catalog.test_csv import exported, rows_of, to_csv
from tests.catalog.test_csv import shop as csv_shop
from tests.factories.catalog import CategoryFactory, ProductFactory

pytestmark = pytest.mark.story("US-60")

KETTLE = "Copper kettle"
TSHIRT = "Organic cotton T-shirt"
SHIRT = "Linen shirt"
PENCILS = "Colour pencils"
JAM = "Berry jam"
LANTERN = "Garden lantern"

# query typed -> the titles it must find (in any order)
FORGIVEN = [
    ("kettel", {KETTLE}),  # two letters swapped
    ("ketle", {KETTLE}),  # a letter missing
    ("kettles", {KETTLE}),  # plural
    ("KETTLES", {KETTLE}),
    ("shirts", {TSHIRT, SHIRT}),  # plural
    ("tshirt", {TSHIRT}),  # compound written as one word
    ("tshirts", {TSHIRT}),
    ("color", {PENCILS}),  # American spelling
    ("pencls", {PENCILS}),  # a letter missing
    ("berries", {JAM}),  # y -> ies
    ("lantren", {LANTERN}),  # two letters swapped
    ("copper kettel", {KETTLE}),  # one word right, one misspelt
    ("widl", {JAM}),  # a short word, two letters swapped at its end (no trigram shared)
    ("soalr", {LANTERN}),  # the same, in a description
]


def titles(client: FlaskClient, url: str) -> list[str]:
    html = client.get(url).get_data(as_text=True)
    return re.findall(r'<h3><a href="/p/[^"]+">([^<]+)</a></h3>', html)


def found(query: str) -> set[str]:
    result = search_products(query, ListingFilters(), ListingSort.RELEVANCE, 1, 24)
    assert result.listing is not None
    return {product.title for product in result.listing.page.items}


@pytest.fixture
def catalogue(app: Flask) -> None:
    category = CategoryFactory(name="Everything")
    for title, description in [
        (TSHIRT, "Soft and breathable."),
        (SHIRT, "Cool in summer."),
        (KETTLE, "Whistles on the stove."),
        (PENCILS, "Twelve bright shades in a tin."),
        (JAM, "Made with wild fruit."),
        (LANTERN, "Solar powered."),
    ]:
        ProductFactory(title=title, description=description, category_id=category.id)


@pytest.mark.parametrize(("query", "expected"), FORGIVEN, ids=[query for query, _ in FORGIVEN])
def test_plurals_misspellings_and_compounds_find_their_products(
    app: Flask, catalogue: None, query: str, expected: set[str]
) -> None:
    assert found(query) == expected


def test_t_shirt_with_its_hyphen_finds_the_t_shirt_first(app: Flask, catalogue: None) -> None:
    result = search_products("t-shirt", ListingFilters(), ListingSort.RELEVANCE, 1, 24)
    assert result.listing is not None
    assert result.listing.page.items[0].title == TSHIRT
    assert result.corrected_query is None


def test_a_near_miss_is_searched_corrected_and_says_so(app: Flask, catalogue: None) -> None:
    result = search_products("kettel", ListingFilters(), ListingSort.RELEVANCE, 1, 24)
    assert result.query == "kettel"
    assert result.corrected_query == "kettle"


def test_a_word_far_from_every_word_of_the_catalogue_finds_nothing(
    app: Flask, catalogue: None
) -> None:
    result = search_products("submarine", ListingFilters(), ListingSort.RELEVANCE, 1, 24)
    assert result.listing is not None
    assert result.listing.page.total == 0
    assert result.corrected_query is None


def test_the_page_offers_did_you_mean_for_a_near_miss(client: FlaskClient, catalogue: None) -> None:
    # when a shopper searches a misspelt word
    html = client.get("/search?q=kettel").get_data(as_text=True)

    # then the page shows the corrected search's products and links to the correction
    assert '<p class="did-you-mean">Did you mean <a href="/search?q=kettle">' in html
    assert titles(client, "/search?q=kettel") == [KETTLE]


def test_the_page_offers_no_did_you_mean_for_an_exact_hit(
    client: FlaskClient, catalogue: None
) -> None:
    html = client.get("/search?q=kettle").get_data(as_text=True)
    assert "did-you-mean" not in html
    assert titles(client, "/search?q=kettle") == [KETTLE]


def test_the_api_product_list_forgives_the_same_way(client: FlaskClient, catalogue: None) -> None:
    response = client.get("/api/v1/products?q=kettel")
    assert response.status_code == 200
    assert [item["title"] for item in response.get_json()["items"]] == [KETTLE]


def test_the_index_and_vocabulary_follow_an_edit_and_an_archive(
    app: Flask, catalogue: None
) -> None:
    # given the kettle renamed
    kettle_id = db.session.scalar(db.select(Product.id).where(Product.title == KETTLE))
    services.update_product(kettle_id, title="Copper teapot", description="Pours well.")

    # then its new word is found, misspelt too, and the old one no longer
    assert found("teapot") == {"Copper teapot"}
    assert found("teapto") == {"Copper teapot"}
    assert found("kettle") == set()

    # when it is archived, then neither finds it (and no correction is offered)
    services.archive_product(kettle_id)
    assert found("teapot") == set()
    result = search_products("teapto", ListingFilters(), ListingSort.RELEVANCE, 1, 24)
    assert result.corrected_query is None


ODD_QUERIES = [
    '"',
    '"kettel',
    "kettel*",
    "NEAR(kettel",
    "kettel AND lantren",
    "AND",
    "OR NOT",
    "*",
    "",
    "   ",
    "k" * 500,
    "kettel " * 80,
    "çafé crème brûlée",
    "Straße",
    "チャイ",
    "🙂🫖",
    "'; DROP TABLE search_terms; --",
    "%_%",
    "ke",
]


@pytest.mark.parametrize("query", ODD_QUERIES, ids=range(len(ODD_QUERIES)))
def test_odd_input_never_gives_an_error(client: FlaskClient, catalogue: None, query: str) -> None:
    page = client.get("/search", query_string={"q": query})
    api = client.get("/api/v1/products", query_string={"q": query})
    suggestions = client.get(
        "/search/suggestions", query_string={"q": query}, headers={"HX-Request": "true"}
    )
    assert (page.status_code, api.status_code, suggestions.status_code) == (200, 200, 200)


def test_suggestions_list_products_and_categories_as_you_type(
    client: FlaskClient, catalogue: None
) -> None:
    CategoryFactory(name="Kettles and teapots")

    response = client.get("/search/suggestions?q=kett", headers={"HX-Request": "true"})

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.findall(r'<li><a href="([^"]+)">([^<]+)</a>', html) == [
        ("/p/copper-kettle", KETTLE),
        ("/c/kettles-and-teapots", "Kettles and teapots"),
    ]
    assert "HX-Request" in response.headers["Vary"]


def test_suggestions_forgive_a_typo_and_ignore_a_single_letter(
    client: FlaskClient, catalogue: None
) -> None:
    typo = client.get("/search/suggestions?q=lantren", headers={"HX-Request": "true"})
    single = client.get("/search/suggestions?q=k", headers={"HX-Request": "true"})

    assert re.findall(r'<li><a href="[^"]+">([^<]+)</a>', typo.get_data(as_text=True)) == [LANTERN]
    assert single.get_data(as_text=True).strip() == ""


def test_suggestions_asked_without_htmx_lead_to_the_search_page(
    client: FlaskClient, catalogue: None
) -> None:
    response = client.get("/search/suggestions?q=kettle")
    assert response.status_code == 302
    assert response.headers["Location"] == "/search?q=kettle"


def test_the_search_box_asks_for_suggestions_and_still_submits_without_javascript(
    client: FlaskClient, catalogue: None
) -> None:
    html = client.get("/").get_data(as_text=True)
    form = re.search(r'<form role="search"[^>]*>.*?</form>', html, re.S)
    assert form is not None
    assert 'action="/search" method="get"' in form.group(0)
    assert 'hx-get="/search/suggestions"' in form.group(0)
    assert 'hx-trigger="input changed delay:300ms"' in form.group(0)
    assert "<script" not in form.group(0)


@pytest.mark.config(RATELIMIT_ENABLED=True)
def test_suggestions_are_rate_limited(client: FlaskClient, catalogue: None) -> None:
    statuses = [
        client.get("/search/suggestions?q=ke", headers={"HX-Request": "true"}).status_code
        for _ in range(61)
    ]
    assert statuses == [200] * 60 + [429]


def test_a_csv_import_updates_what_search_and_its_corrections_find(app: Flask) -> None:
    # given the catalogue exported, and its shirt renamed in the file
    csv_shop()
    rows = rows_of(exported())
    for row in rows:
        if row["handle"] == "oxford-shirt":
            row["title"] = "Oxford blazer"

    # when the file is imported
    inventory.import_catalogue(to_csv(rows))

    # then the new word is found, misspelt too, and the old title no longer
    assert found("blazers") == {"Oxford blazer"}
    assert found("blazre") == {"Oxford blazer"}
    assert found("oxford shirt") == set()


def test_search_pages_run_the_same_statements_for_5_or_40_products(
    client: FlaskClient, app: Flask, sql_statements: list[str]
) -> None:
    # given 5 lamps (each with options, for the facets)
    category = CategoryFactory(name="Lighting")

    def add_lamps(start: int, count: int) -> None:
        for number in range(start, start + count):
            ProductFactory(
                title=f"Desk lamp {number}",
                category_id=category.id,
                variants=[
                    {"sku": f"LMP-{number}-{colour}", "options": {"Colour": colour}}
                    for colour in ("Red", "Blue")
                ],
            )

    add_lamps(0, 5)
    urls = [
        "/search?q=lamps",  # an exact hit (stemmed)
        "/search?q=lampz&colour=Red",  # a near miss, corrected
        "/search?q=zzzzzz",  # nothing near
        "/search/suggestions?q=lamp",
        "/search/suggestions?q=lampz",
    ]

    def counts() -> list[int]:
        numbers = []
        for url in urls:
            sql_statements.clear()
            assert client.get(url, headers={"HX-Request": "true"}).status_code == 200
            numbers.append(len(sql_statements))
        return numbers

    # when the pages are read with 5 products, then with 40
    assert client.get("/").status_code == 200
    # the home page rendered and the category tree read once more: every page is a first read
    RENDERED_LISTINGS.clear()
    CATEGORY_TREES.clear()
    with_5 = counts()
    add_lamps(5, 35)
    with_40 = counts()

    # then each ran the same statements on every database: an exact hit as many as before
    # forgiving search (with the facets' catalogue order); a near miss adds the vocabulary
    # lookup and the corrected search (its count, page, images, facets and their order); a
    # word near nothing adds the lookup alone; the page reads the catalogue version once,
    # for its kept HTML and the counts of every listing it searched alike (the catalogue
    # changed since the last visit, so each is counted); a search that finds products also
    # finds the order of its first rows, once per version
    assert with_5 == with_40
    assert with_40 == [9, 14, 4, 3, 5]
