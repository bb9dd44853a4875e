"""US-09 and US-11: sorting, filtering, facets and paging of listings, in constant queries."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from funnel.catalog.models import Category, Product
from funnel.catalog.queries import CATEGORY_TREES, RENDERED_LISTINGS
from funnel.catalog.values import catalogue_order
from funnel.extensions import db
from tests.factories.catalog import CategoryFactory, ProductFactory


def titles(client: FlaskClient, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    return re.findall(r'<h3><a href="/p/[^"]+">([^<]+)</a></h3>', response.get_data(as_text=True))


def facet_counts(client: FlaskClient, url: str) -> dict[str, int]:
    html = client.get(url).get_data(as_text=True)
    found = re.findall(
        r'name="([^"]+)" value="([^"]+)"[^>]*>\s*[^<]+<span class="facet-count">\((\d+)\)', html
    )
    return {f"{name}={value}": int(count) for name, value, count in found}


@pytest.fixture
def clothing(app: Flask) -> Category:
    """Tees in sizes and colours at several prices (one variant per size/colour pair)."""
    category = CategoryFactory(name="Clothing")
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
            category_id=category.id,
            variants=[
                {
                    "sku": f"{code}-{size}-{colour}",
                    "price": price,
                    "options": {"Size": size, "Colour": colour},
                }
                for size, colour in pairs
            ],
        )
    return category


@pytest.mark.story("US-09")
def test_newest_is_the_default_order(client: FlaskClient, clothing: Category) -> None:
    assert titles(client, "/c/clothing") == ["Delta tee", "Charlie tee", "Bravo tee", "Alpha tee"]


@pytest.mark.story("US-09")
@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("price-asc", ["Charlie tee", "Alpha tee", "Bravo tee", "Delta tee"]),
        ("price-desc", ["Delta tee", "Bravo tee", "Alpha tee", "Charlie tee"]),
        ("name", ["Alpha tee", "Bravo tee", "Charlie tee", "Delta tee"]),
        ("newest", ["Delta tee", "Charlie tee", "Bravo tee", "Alpha tee"]),
        ("no-such-order", ["Delta tee", "Charlie tee", "Bravo tee", "Alpha tee"]),
    ],
)
def test_listings_sort_by_price_name_and_newest(
    client: FlaskClient, clothing: Category, sort: str, expected: list[str]
) -> None:
    assert titles(client, f"/c/clothing?sort={sort}") == expected


@pytest.mark.story("US-09")
def test_a_price_range_in_major_units_filters_exactly(
    client: FlaskClient, clothing: Category
) -> None:
    # bounds are included, and 15 means 1500 minor units exactly
    assert titles(client, "/c/clothing?min_price=15&max_price=25.00&sort=price-asc") == [
        "Alpha tee",
        "Bravo tee",
    ]
    assert titles(client, "/c/clothing?min_price=15.01&sort=price-asc") == [
        "Bravo tee",
        "Delta tee",
    ]


@pytest.mark.story("US-09")
@pytest.mark.parametrize(
    ("query", "note"),
    [
        ("min_price=abc", "Minimum price must be an amount such as 12.50, from 0. It was ignored."),
        ("max_price=-5", "Maximum price must be an amount such as 12.50, from 0. It was ignored."),
        ("min_price=1.005", "Minimum price must be an amount such as 12.50, from 0."),
        ("min_price=NaN", "Minimum price must be an amount such as 12.50, from 0."),
        ("min_price=1e400", "Minimum price must be an amount such as 12.50, from 0."),
        ("max_price=99999999999999999999", "Maximum price must be an amount such as 12.50"),
        (
            "min_price=30&max_price=10",
            "The minimum price is above the maximum price. The price range was ignored.",
        ),
    ],
)
def test_a_bad_price_is_ignored_with_a_note_beside_the_listing(
    client: FlaskClient, clothing: Category, query: str, note: str
) -> None:
    # when a listing is asked for with a price that is not one (typed into the price box)
    response = client.get(f"/c/clothing?{query}&sort=name")

    # then the page lists every product, as without the bad price, and says what was ignored
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert titles(client, f"/c/clothing?{query}&sort=name") == [
        "Alpha tee",
        "Bravo tee",
        "Charlie tee",
        "Delta tee",
    ]
    notes = re.findall(r'<p class="listing-note" role="status">([^<]+)</p>', html)
    assert len(notes) == 1
    assert notes[0].startswith(note)


@pytest.mark.story("US-09")
def test_a_bad_bound_is_ignored_and_the_good_one_kept(
    client: FlaskClient, clothing: Category
) -> None:
    assert titles(client, "/c/clothing?min_price=abc&max_price=20&sort=name") == [
        "Alpha tee",
        "Charlie tee",
    ]


@pytest.mark.story("US-09")
def test_a_bad_price_on_the_search_page_is_ignored_with_a_note(
    client: FlaskClient, clothing: Category
) -> None:
    response = client.get("/search?q=tee&min_price=abc")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert len(re.findall(r'<h3><a href="/p/', html)) == 4
    assert 'class="listing-note" role="status">Minimum price must be' in html


def facet_order(client: FlaskClient, url: str) -> dict[str, list[str]]:
    """Per facet (its legend), the values in the order the page lists them."""
    html = client.get(url).get_data(as_text=True)
    order: dict[str, list[str]] = {}
    for legend, body in re.findall(
        r'<fieldset class="facet">\s*<legend>([^<]+)</legend>(.*?)</fieldset>', html, re.S
    ):
        order[legend] = re.findall(r'value="([^"]+)"', body)
    return order


@pytest.fixture
def sized(app: Flask) -> Category:
    """Shirts whose variants list sizes in the shop's order, each product a different run of
    them (none has all five), in colours whose names are not in alphabetical order."""
    category = CategoryFactory(name="Shirts")
    rows = [
        ("Linen shirt", ["M", "L", "XL"], "White"),
        ("Oxford shirt", ["S", "M"], "Blue"),
        ("Flannel shirt", ["XS", "S"], "Red"),
        ("Denim shirt", ["L", "XL"], "Black"),
        ("Polo shirt", ["M"], "Green"),
        ("Kids shirt", ["2-3Y", "4-5Y", "10-11Y"], "Green"),
    ]
    for title, sizes, colour in rows:
        code = title.split()[0].upper()
        ProductFactory(
            title=title,
            category_id=category.id,
            variants=[
                {"sku": f"{code}-{size}", "options": {"Size": size, "Colour": colour}}
                for size in sizes
            ],
        )
    return category


@pytest.mark.story("US-09")
def test_sizes_follow_the_catalogues_order_and_other_values_the_alphabet(
    client: FlaskClient, sized: Category
) -> None:
    assert facet_order(client, "/c/shirts") == {
        # sizes no scale knows keep the products' order too (not "10-11Y" first)
        "Size": ["XS", "S", "M", "L", "XL", "2-3Y", "4-5Y", "10-11Y"],
        "Colour": ["Black", "Blue", "Green", "Red", "White"],
    }


@pytest.mark.story("US-09")
@pytest.mark.parametrize(
    "query",
    ["size=M", "colour=Red", "size=XL&colour=Black", "min_price=0&size=S", "sort=price-desc"],
)
def test_filtering_never_reorders_the_facets_or_their_values(
    client: FlaskClient, sized: Category, query: str
) -> None:
    # given the facets of the whole category
    full = facet_order(client, "/c/shirts")

    # when a filter is chosen
    filtered = facet_order(client, f"/c/shirts?{query}")

    # then the facets come in the same order, and each lists its remaining values in the
    # same order as before (values no product matches any more drop out)
    assert list(filtered) == [name for name in full if name in filtered]
    for name, values in filtered.items():
        assert values == [value for value in full[name] if value in values]
    assert "Size" in filtered


def test_numbers_sort_by_value_and_the_size_scale_orders_sizes_no_product_shares() -> None:
    assert catalogue_order(["XL", "10", "S", "M", "XS"], {}) == ["XS", "S", "M", "XL", "10"]
    assert catalogue_order(["42", "9", "10.5"], {}) == ["9", "10.5", "42"]
    # the catalogue's own order wins over the scale; a disagreement goes the majority's way
    assert catalogue_order(["Tall", "Short"], {("Tall", "Short"): 2, ("Short", "Tall"): 1}) == [
        "Tall",
        "Short",
    ]


@pytest.mark.story("US-09")
def test_a_clear_all_link_keeps_the_words_and_sort_and_drops_every_filter(
    client: FlaskClient, clothing: Category
) -> None:
    # without a filter there is nothing to clear
    assert "Clear all filters" not in client.get("/c/clothing").get_data(as_text=True)

    # with filters, the link leads to the same listing and sort without them
    html = client.get("/c/clothing?size=M&colour=Red&min_price=5&sort=name").get_data(as_text=True)
    assert (
        '<p class="listing-clear"><a href="/c/clothing?sort=name">Clear all filters'
        '<span class="visually-hidden"> (3 chosen)</span></a></p>'
    ) in html
    search = client.get("/search?q=tee&size=L").get_data(as_text=True)
    assert '<a href="/search?q=tee">Clear all filters' in search


@pytest.mark.story("US-09")
def test_sort_and_filters_apply_on_change_with_htmx_and_by_a_button_without(
    client: FlaskClient, clothing: Category
) -> None:
    html = client.get("/c/clothing?size=M").get_data(as_text=True)

    form = html.split('<form method="get" action="/c/clothing"')[1].split("</form>")[0]
    # with JavaScript: any change fetches the listing, swaps the results, facets and notes,
    # and puts the URL in the history
    assert 'hx-get="/c/clothing" hx-trigger="change, submit"' in form
    assert 'hx-target="#listing-results"' in form
    assert 'hx-select-oob="#listing-facets,#listing-notes"' in form
    assert 'hx-push-url="true"' in form
    assert '<section aria-label="Products" id="listing-results">' in html
    # without it: the Apply button (only shown when scripts do not run)
    assert '<noscript><button type="submit">Apply</button></noscript>' in form
    # the filters fold behind a "Filter" disclosure (open on wide screens, by CSS)
    assert '<details class="listing-filters">\n      <summary>Filter</summary>' in form
    # a checkbox's id depends on its option and value only (focus survives the swap)
    assert re.search(r'id="facet-size-[0-9a-f]{6}-m-[0-9a-f]{6}" name="size" value="M"', form)


@pytest.mark.story("US-09")
def test_option_filters_match_one_variant_and_combine(
    client: FlaskClient, clothing: Category
) -> None:
    # one option narrows the listing
    assert titles(client, "/c/clothing?size=L&sort=name") == [
        "Bravo tee",
        "Charlie tee",
        "Delta tee",
    ]
    # two values of one option are alternatives
    assert titles(client, "/c/clothing?colour=Green&colour=Red&sort=name") == [
        "Alpha tee",
        "Charlie tee",
        "Delta tee",
    ]
    # two options must hold for the same variant: Charlie has M/Blue and L/Red, not M/Red
    assert titles(client, "/c/clothing?size=M&colour=Red&sort=name") == ["Alpha tee"]
    # an option nobody has narrows to nothing, with a message
    response = client.get("/c/clothing?material=Silk")
    assert response.status_code == 200
    assert "No products found with these filters" in response.get_data(as_text=True)


@pytest.mark.story("US-09")
def test_each_option_value_shows_how_many_products_match(
    client: FlaskClient, clothing: Category
) -> None:
    # without filters: products per value
    assert facet_counts(client, "/c/clothing") == {
        "size=S": 1,
        "size=M": 3,
        "size=L": 3,
        "colour=Red": 2,
        "colour=Blue": 2,
        "colour=Green": 1,
    }
    # with size=M chosen: other sizes still count without it; colours count within size M
    assert facet_counts(client, "/c/clothing?size=M") == {
        "size=S": 1,
        "size=M": 3,
        "size=L": 3,
        "colour=Red": 1,
        "colour=Blue": 2,
    }


@pytest.mark.story("US-09")
def test_facets_follow_the_price_filter(client: FlaskClient, clothing: Category) -> None:
    assert facet_counts(client, "/c/clothing?min_price=30") == {"size=L": 1, "colour=Green": 1}


@pytest.mark.story("US-09")
def test_filters_and_sort_survive_paging_in_the_query_string(
    client: FlaskClient, app: Flask
) -> None:
    # given 30 products of one size at the same price
    category = CategoryFactory(name="Socks")
    for number in range(30):
        ProductFactory(
            title=f"Sock {number:02d}",
            category_id=category.id,
            variants=[{"sku": f"SOCK-{number}", "price": 500, "options": {"Size": "M"}}],
        )

    # when the first page is sorted by price and filtered by size
    html = client.get("/c/socks?sort=price-asc&size=M").get_data(as_text=True)

    # then the link to the next page keeps the sort and the filter
    assert 'href="/c/socks?sort=price-asc&amp;size=M&amp;page=2" rel="next"' in html


@pytest.mark.story("US-09")
def test_pages_hold_24_products_and_show_each_product_once(client: FlaskClient, app: Flask) -> None:
    # given 50 products with the same price and the same name stem
    category = CategoryFactory(name="Socks")
    for number in range(50):
        ProductFactory(
            title="Sock",
            category_id=category.id,
            variants=[{"sku": f"SOCK-{number}", "price": 500}],
        )

    for sort in ("price-asc", "price-desc", "name", "newest"):
        # when every page is read in this order
        pages = [
            re.findall(
                r'href="/p/([^"]+)"',
                client.get(f"/c/socks?sort={sort}&page={page}").get_data(as_text=True),
            )
            for page in (1, 2, 3)
        ]

        # then the pages hold 24, 24 and 2 products, each product exactly once
        assert [len(page) for page in pages] == [24, 24, 2]
        assert len({slug for page in pages for slug in page}) == 50


@pytest.mark.story("US-09")
def test_paging_links_lead_to_previous_and_next_pages(client: FlaskClient, app: Flask) -> None:
    category = CategoryFactory(name="Socks")
    for number in range(30):
        ProductFactory(title=f"Sock {number}", category_id=category.id)

    first = client.get("/c/socks").get_data(as_text=True)
    second = client.get("/c/socks?page=2").get_data(as_text=True)

    assert 'href="/c/socks?page=2" rel="next"' in first
    assert 'rel="prev"' not in first
    assert 'href="/c/socks" rel="prev"' in second
    assert 'rel="next"' not in second


@pytest.mark.story("US-09")
@pytest.mark.parametrize(
    ("query", "status"),
    [("page=abc", 400), ("page=0", 400), ("page=-1", 400), ("page=1.5", 400), ("page=7", 404)],
)
def test_a_bad_page_number_is_a_client_error(
    client: FlaskClient, clothing: Category, query: str, status: int
) -> None:
    assert client.get(f"/c/clothing?{query}").status_code == status


def _add_products(category_id: int, count: int, start: int) -> None:
    for number in range(start, start + count):
        ProductFactory(
            title=f"Lamp {number}",
            category_id=category_id,
            is_featured=True,
            variants=[
                {"sku": f"LAMP-{number}-{colour}", "options": {"Colour": colour}}
                for colour in ("Red", "Blue", "Green")
            ],
        )


@pytest.mark.story("US-11")
def test_storefront_pages_and_api_reads_run_the_same_number_of_queries_for_5_or_40_products(
    client: FlaskClient, app: Flask, sql_statements: list[str]
) -> None:
    # given a category tree with 5 products (3 variants each, with options), and the pages
    # the storefront benchmark loads (a test client is counted in the funnel as a browser is)
    parent = CategoryFactory(name="Home")
    category = CategoryFactory(name="Lamps", parent_id=parent.id)
    _add_products(category.id, 5, 0)
    urls = [
        "/",
        "/c/home",
        "/c/lamps?colour=Red&sort=price-asc",
        "/search?q=lamp",
        "/search?q=lamp&colour=Blue&min_price=1",
        "/p/lamp-0",
        "/api/v1/products",
        "/api/v1/products/lamp-0",
    ]

    def counts() -> list[int]:
        numbers = []
        for url in urls:
            sql_statements.clear()
            assert client.get(url).status_code == 200
            numbers.append(len(sql_statements))
        return numbers

    # when the pages are read with 5 products, then with 40 (after a first visit: the day's
    # visit is recorded once, on the visitor's first page)
    assert client.get("/").status_code == 200
    # the home page rendered and the category tree read once more: every page is a first read
    RENDERED_LISTINGS.clear()
    CATEGORY_TREES.clear()
    with_5 = counts()
    _add_products(category.id, 35, 5)
    with_40 = counts()

    # then each page ran the same, small number of statements (the catalogue changed: the
    # facets read its version, then count; a search also finds the order of its first rows)
    assert with_5 == with_40
    assert max(with_40) <= 10

    # when they are read again, the catalogue unchanged
    again = counts()

    # then a listing's HTML and the category tree come from this worker's memory: no tree, no
    # count, no facet count (one more for each option chosen), no search order, no product card
    # and no image is read (the home page reads its two sections' cards and their images); the
    # catalogue's version is read once per request, however many kept values it looks up; the
    # API's list keeps its count (1 fewer); one product reads no catalogue-wide figure (as many)
    fewer = [first - second for first, second in zip(with_40, again, strict=True)]
    assert fewer == [5, 5, 6, 6, 6, 0, 1, 0]
    assert again[:5] == [2, 2, 2, 2, 2]


@pytest.mark.story("US-11")
def test_the_product_page_runs_the_same_queries_for_1_or_many_variants(
    client: FlaskClient, app: Flask, sql_statements: list[str]
) -> None:
    # given a product with one variant and one with eight variants of two options each
    category = CategoryFactory(name="Shoes")
    ProductFactory(title="Plain", category_id=category.id, variants=[{"sku": "PLAIN-1"}])
    ProductFactory(
        title="Many",
        category_id=category.id,
        variants=[
            {"sku": f"MANY-{size}-{colour}", "options": {"Size": size, "Colour": colour}}
            for size in ("40", "41", "42", "43")
            for colour in ("Black", "White")
        ],
    )

    # when both pages are read (after a first visit, recorded once a day)
    assert client.get("/").status_code == 200
    sql_statements.clear()
    assert client.get("/p/plain").status_code == 200
    plain = len(sql_statements)
    sql_statements.clear()
    assert client.get("/p/many").status_code == 200
    many = len(sql_statements)

    # then they ran the same number of statements
    # (the page, the product_view funnel event it records, and the shop's settings)
    assert plain == many == 7


@pytest.mark.story("US-09")
@pytest.mark.config(PAGE_SIZE=3)
@pytest.mark.parametrize("sort", ["price-asc", "price-desc", "name", "newest"])
@pytest.mark.parametrize("size", [None, "M"])
def test_a_category_reads_as_one_sorted_list_across_its_subcategories_page_by_page(
    client: FlaskClient, app: Flask, sort: str, size: str | None
) -> None:
    # given a category, two subcategories and a grandchild, whose products' prices and names
    # interleave (with ties), some of them not in size M
    clothing = CategoryFactory(name="Clothing")
    tees = CategoryFactory(name="Tees", parent_id=clothing.id)
    hats = CategoryFactory(name="Hats", parent_id=clothing.id)
    caps = CategoryFactory(name="Caps", parent_id=hats.id)
    rows = [
        (clothing, "Kilo", 900, "M"), (tees, "Alpha", 500, "M"), (tees, "Hotel", 1200, "S"),
        (hats, "Echo", 500, "M"), (caps, "Bravo", 700, "M"), (tees, "Golf", 700, "M"),
        (caps, "India", 300, "L"), (hats, "Delta", 1500, "M"), (clothing, "Foxtrot", 700, "M"),
        (caps, "Juliet", 1100, "M"), (tees, "Charlie", 200, "M"),
    ]  # fmt: skip
    for category, title, price, variant_size in rows:
        ProductFactory(
            title=title,
            category_id=category.id,
            variants=[{"sku": title.upper(), "price": price, "options": {"Size": variant_size}}],
        )
    products = db.session.execute(
        select(Product.id, Product.title, Product.min_price_amount, Product.created_at)
    ).all()
    sizes = {title: variant_size for _category, title, _price, variant_size in rows}
    wanted = [product for product in products if size is None or sizes[product.title] == size]
    orders: dict[str, Callable[[Any], Any]] = {
        "price-asc": lambda product: (product.min_price_amount, product.id),
        "price-desc": lambda product: (-product.min_price_amount, -product.id),
        "name": lambda product: (product.title, product.id),
        "newest": lambda product: (-product.created_at.timestamp(), -product.id),
    }
    expected = [product.title for product in sorted(wanted, key=orders[sort])]

    # when every page of the category is read in that order
    query = f"sort={sort}" + (f"&size={size}" if size else "")
    last = (len(expected) + 2) // 3
    pages = [titles(client, f"/c/clothing?{query}&page={page}") for page in range(1, last + 1)]

    # then the pages hold the subtree's products as one list sorted across the categories
    assert [title for page in pages for title in page] == expected
    assert [len(page) for page in pages] == [3] * (last - 1) + [len(expected) - 3 * (last - 1)]
