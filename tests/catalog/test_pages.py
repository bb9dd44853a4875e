"""US-08 and US-13: the storefront pages, through the test client."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient

from funnel.catalog import services
from funnel.catalog.models import Category, Product, ProductStatus
from tests.factories.catalog import CategoryFactory, ProductFactory, image_bytes


class _Controls(HTMLParser):
    """Collects form controls, labels, images, inline styles and inline scripts of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.control_ids: list[str | None] = []
        self.unlabelled_wrapped = 0
        self.label_targets: set[str] = set()
        self.images_without_alt = 0
        self.inline_styles = 0
        self.inline_scripts = 0
        self._label_depth = 0
        self._in_script_without_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if "style" in attributes or tag == "style":
            self.inline_styles += 1
        if tag == "script" and "src" not in attributes:
            self.inline_scripts += 1
        if tag == "label":
            self._label_depth += 1
            if attributes.get("for"):
                self.label_targets.add(attributes["for"] or "")
        if tag in {"input", "select", "textarea"} and attributes.get("type") not in {
            "hidden",
            "submit",
        }:
            self.control_ids.append(attributes.get("id"))
        if tag == "img" and not attributes.get("alt"):
            self.images_without_alt += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label_depth -= 1


def check_accessible(html: str) -> None:
    """Every control has a label, every image alt text, and nothing inline breaks the CSP."""
    parser = _Controls()
    parser.feed(html)
    assert [id_ for id_ in parser.control_ids if id_ not in parser.label_targets] == []
    assert parser.images_without_alt == 0
    assert parser.inline_styles == 0
    assert parser.inline_scripts == 0


@pytest.fixture
def shop(app: Flask) -> dict[str, Category | Product]:
    """Clothing > T-shirts with a tee (featured, with an image), and Home with a lamp."""
    clothing = CategoryFactory(name="Clothing", description="Things to wear.")
    tees = CategoryFactory(name="T-shirts", parent_id=clothing.id)
    home = CategoryFactory(name="Home", position=1)
    tee = ProductFactory(
        title="Organic tee",
        description="Soft cotton.\n\nMade to last.",
        category_id=tees.id,
        is_featured=True,
        seo_title="Organic cotton T-shirt",
        seo_description="A soft organic cotton tee.",
        variants=[
            {
                "sku": "TSH-001-M",
                "price": 1999,
                "stock_quantity": 4,
                "options": {"Size": "M", "Colour": "Red"},
            },
            {
                "sku": "TSH-001-L",
                "price": 2199,
                "stock_quantity": 0,
                "options": {"Size": "L", "Colour": "Red"},
            },
        ],
    )
    services.add_product_image(tee.id, image_bytes("PNG"), alt_text="A red organic tee")
    lamp = ProductFactory(title="Desk lamp", category_id=home.id)
    return {"clothing": clothing, "tees": tees, "home": home, "tee": tee, "lamp": lamp}


def product_links(html: str) -> list[str]:
    return re.findall(r'<h3><a href="/p/[^"]+">([^<]+)</a></h3>', html)


@pytest.mark.story("US-08")
def test_the_home_page_shows_featured_and_new_products_and_categories(
    client: FlaskClient, shop: dict
) -> None:
    response = client.get("/")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    featured, new = html.split('id="new-products"')
    assert product_links(featured) == ["Organic tee"]
    assert product_links(new) == ["Desk lamp", "Organic tee"]
    assert '<h2 id="shop-by-category">Shop by category</h2>' in html
    assert '<a href="/c/clothing">Clothing</a>' in html
    assert '<a href="/c/home">Home</a>' in html
    assert '<a href="/c/t-shirts">' not in html
    check_accessible(html)


def test_the_home_page_of_an_empty_shop_says_so(client: FlaskClient) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert "No products yet" in response.get_data(as_text=True)


@pytest.mark.story("US-08")
def test_a_category_page_lists_its_subtree_and_links_parent_and_children(
    client: FlaskClient, shop: dict
) -> None:
    # the parent lists the product of its subcategory and links to it
    parent = client.get("/c/clothing").get_data(as_text=True)
    assert "<h1>Clothing</h1>" in parent
    assert product_links(parent) == ["Organic tee"]
    assert '<a href="/c/t-shirts">T-shirts</a>' in parent
    check_accessible(parent)

    # the subcategory's breadcrumbs lead back to its parent
    child = client.get("/c/t-shirts").get_data(as_text=True)
    breadcrumbs = child.split('aria-label="Breadcrumb"')[1].split("</nav>")[0]
    assert re.findall(r">([^<]+)</a>", breadcrumbs) == ["Home", "Clothing", "T-shirts"]
    assert product_links(child) == ["Organic tee"]
    assert "<title>T-shirts · Funnel</title>" in child


@pytest.mark.story("US-08")
def test_the_product_page_shows_everything_about_the_product(
    client: FlaskClient, shop: dict
) -> None:
    response = client.get("/p/organic-tee")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Organic tee</h1>" in html
    assert "<title>Organic cotton T-shirt · Funnel</title>" in html
    assert '<meta name="description" content="A soft organic cotton tee.">' in html
    assert "<p>Soft cotton.</p>" in html
    assert "<p>Made to last.</p>" in html
    assert 'alt="A red organic tee"' in html
    assert '<label for="variant">Choose a variant</label>' in html
    options = re.findall(r"<option value=\"\d+\" ?(?:selected)?>\s*([^<]+?)\s*</option>", html)
    assert options == ["M / Red · $19.99 · In stock", "L / Red · $21.99 · Out of stock"]
    assert '<p class="price" id="selected-price">$19.99</p>' in html
    assert '<span id="selected-sku">TSH-001-M</span>' in html
    check_accessible(html)


@pytest.mark.story("US-08")
def test_choosing_a_variant_shows_its_price_sku_and_stock(client: FlaskClient, shop: dict) -> None:
    # given the product page's variant choices
    html = client.get("/p/organic-tee").get_data(as_text=True)
    large = re.search(r'<option value="(\d+)" >\s*L / Red', html)
    assert large is not None

    # when the large one is chosen (the form is a GET: it works without JavaScript)
    chosen = client.get(f"/p/organic-tee?variant={large.group(1)}").get_data(as_text=True)

    # then its price, SKU and stock are shown
    assert '<p class="price" id="selected-price">$21.99</p>' in chosen
    assert '<span id="selected-sku">TSH-001-L</span>' in chosen
    assert '<span class="stock-out">Out of stock</span>\n' in chosen


@pytest.mark.story("US-08")
def test_the_variant_chooser_swaps_the_product_in_place_with_htmx(
    client: FlaskClient, shop: dict
) -> None:
    html = client.get("/p/organic-tee").get_data(as_text=True)

    # with JavaScript: a change fetches the page of that variant, swaps the product's layout
    # (price, SKU, availability, image, add-to-cart form) and puts its URL in the history
    chooser = html.split('class="variant-chooser"')[1].split("</form>")[0]
    assert 'hx-get="/p/organic-tee" hx-trigger="change"' in chooser
    assert 'hx-target="#product-main" hx-select="#product-main"' in chooser
    assert 'hx-push-url="true"' in chooser
    layout = html.split('<div class="product-layout" id="product-main">')[1]
    assert 'id="selected-price"' in layout
    assert 'id="selected-sku"' in layout
    assert 'alt="A red organic tee"' in layout
    assert 'id="add-to-cart"' in layout
    # without it: the GET form's button (only shown when scripts do not run)
    assert (
        '<noscript><button type="submit" class="secondary">Show this variant</button></noscript>'
        in chooser
    )


@pytest.mark.story("US-08")
def test_a_single_variant_product_has_no_chooser_and_no_photo_a_placeholder(
    client: FlaskClient, shop: dict
) -> None:
    html = client.get("/p/desk-lamp").get_data(as_text=True)

    # no chooser, no variants table, no "Variant:" line for the one variant
    assert 'class="variant-chooser"' not in html
    assert "Choose a variant" not in html
    assert "<caption>Variants</caption>" not in html
    assert 'class="selected-variant"' not in html
    # the add-to-cart form and the price are there
    assert '<button type="submit">Add to cart</button>' in html
    assert 'id="selected-price"' in html
    # a small placeholder stands in for the missing photo (on the card too)
    assert (
        '<div class="image-placeholder product-image-placeholder"><span>No photo yet</span></div>'
        in html
    )
    home = client.get("/").get_data(as_text=True)
    assert home.count('<div class="image-placeholder"><span>No photo yet</span></div>') == 1
    check_accessible(html)


@pytest.mark.parametrize("variant", ["abc", "999999", "", "-1"])
def test_an_unknown_variant_choice_shows_the_first_variant(
    client: FlaskClient, shop: dict, variant: str
) -> None:
    response = client.get(f"/p/organic-tee?variant={variant}")

    assert response.status_code == 200
    assert '<span id="selected-sku">TSH-001-M</span>' in response.get_data(as_text=True)


@pytest.mark.story("US-08")
def test_draft_archived_and_unknown_products_answer_404(client: FlaskClient, shop: dict) -> None:
    # given a draft and an archived product
    ProductFactory(title="Draft thing", status=ProductStatus.DRAFT)
    services.archive_product(shop["lamp"].id)

    # then their pages, an unknown slug and an unknown category answer 404
    for url in ("/p/draft-thing", "/p/desk-lamp", "/p/no-such-thing", "/c/no-such-category"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Back to the shop" in response.get_data(as_text=True)

    # and the archived product no longer appears in listings
    assert product_links(client.get("/c/home").get_data(as_text=True)) == []


def test_a_huge_or_strange_slug_is_a_404(client: FlaskClient, shop: dict) -> None:
    assert client.get("/p/" + "x" * 5000).status_code == 404
    assert client.get("/c/%F0%9F%99%82").status_code == 404
    assert client.get("/p/'%20OR%201=1--").status_code == 404


@pytest.mark.story("US-13")
def test_listing_pages_label_every_control_and_inline_nothing(
    client: FlaskClient, shop: dict
) -> None:
    for url in ("/c/clothing?size=M", "/search?q=tee", "/search", "/search?q=zzz"):
        response = client.get(url)
        assert response.status_code == 200
        check_accessible(response.get_data(as_text=True))


def test_media_files_are_served_and_paths_cannot_escape(
    client: FlaskClient, shop: dict, app: Flask
) -> None:
    # given the uploaded image's thumbnail linked from the product page
    html = client.get("/p/organic-tee").get_data(as_text=True)
    thumbnail = re.search(r'src="(/media/products/[^"]+-800\.png)"', html)
    assert thumbnail is not None

    # then it is served, and paths out of the media folder are not
    with client.get(thumbnail.group(1)) as response:
        assert response.status_code == 200
        assert response.mimetype == "image/png"
        assert response.data.startswith(b"\x89PNG")
    for url in ("/media/../secret_key", "/media/%2e%2e/secret_key", "/media//etc/passwd"):
        assert client.get(url, follow_redirects=True).status_code == 404, url


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize(
    "value",
    ["plain-slug", "a slug with spaces", "caf\u00e9-\u00fcber", "100%?#&=+", "2026/05/a b.jpg"],
)
def test_the_links_of_a_listing_card_are_those_url_for_builds(app: Flask, value: str) -> None:
    # given the helpers a product card links with (a URL prefix built once per request)
    product_url = app.jinja_env.globals["product_url"]
    media_url = app.jinja_env.globals["media_url"]

    # when a card links a product and an image with any characters, twice in one request
    with app.test_request_context("/c/anything"):
        links = [product_url(value), media_url(value), product_url(value)]
        expected = [
            url_for("catalog.product", slug=value),
            url_for("media.media", filename=value),
            url_for("catalog.product", slug=value),
        ]

    # then they are exactly what url_for writes
    assert links == expected
