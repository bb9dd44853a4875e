"""US-62: prices with tax as my country pays them, on every storefront page, in the cart, at
checkout and on the order; what is charged adds up to what was shown (on every database)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from funnel.catalog.models import Category, Product, Variant
from funnel.extensions import db
from funnel.payments.models import Payment
from tests.checkout.helpers import CARD_SUCCEEDS, add_to_cart, go_to_pay, orders, pay
from tests.factories.accounts import AddressFactory, UserFactory
from tests.factories.catalog import ProductFactory
from tests.settings.helpers import save

# A GB shop: 20 % VAT at home, 19 % in Germany, nothing in the US.
GB_SHOP = {
    "CURRENCY": "GBP",
    "TAX_RATES": "GB:2000,DE:1900,US:0",
    "DEFAULT_TAX_RATE": 0,
    "SHOP_COUNTRY": "GB",
    "SHIPPING_METHODS": "standard:Standard:4.99",
    "FREE_SHIPPING_THRESHOLD": "off",
}
GROSS = {**GB_SHOP, "PRICES_INCLUDE_TAX": True}
NET = {**GB_SHOP, "PRICES_INCLUDE_TAX": False}


@pytest.fixture
def notebook(app: Flask) -> Variant:
    """A notebook at 9.99 net (20 %: 1.998 of tax, 11.99 with it), 10 in stock."""
    ProductFactory(
        title="Dot notebook",
        variants=[{"sku": "NOTE-1", "price": 999, "stock_quantity": 10}],
    )
    return db.session.scalars(select(Variant).where(Variant.sku == "NOTE-1")).one()


def category_path(variant: Variant) -> str:
    product = db.session.get(Product, variant.product_id)
    return f"/c/{db.session.get(Category, product.category_id).slug}"


def text_of(response: Any) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def cell(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(?:<strong>)?([^<]*)<', html)
    assert match, element_id
    return match.group(1).strip()


@pytest.mark.story("US-62")
@pytest.mark.config(**GROSS)
def test_a_gb_shop_showing_gross_prices_shows_them_on_every_storefront_page(
    client: FlaskClient, notebook: Variant
) -> None:
    # the product page shows 11.99 with its label
    product = text_of(client.get("/p/dot-notebook"))
    assert '<p class="price" id="selected-price">£11.99</p>' in product
    assert '<small id="selected-price-label">incl. VAT</small>' in product
    assert "£9.99" not in product

    # the variant chooser's answer (htmx) shows it too
    chosen = text_of(
        client.get(f"/p/dot-notebook?variant={notebook.id}", headers={"HX-Request": "true"})
    )
    assert '<p class="price" id="selected-price">£11.99</p>' in chosen

    # the category and the search cards show it
    for path in (category_path(notebook), "/search?q=notebook", "/"):
        card = text_of(client.get(path))
        assert '<p class="price">£11.99 <small class="price-label">incl. VAT</small></p>' in card, (
            path
        )

    # the cart shows the unit, the line (3 x 11.99) and the subtotal with tax
    add_to_cart(client, notebook, 3)
    cart = text_of(client.get("/cart"))
    assert '<td data-label="Unit price">£11.99</td>' in cart
    assert '<td data-label="Total">£35.97</td>' in cart
    assert '<td id="cart-subtotal">£35.97</td>' in cart
    assert '(3 items) <small class="price-label">incl. VAT</small>' in cart


@pytest.mark.story("US-62")
@pytest.mark.config(**GROSS)
def test_in_gross_mode_the_review_adds_up_to_the_total_charged(
    app: Flask,
    client: FlaskClient,
    notebook: Variant,
    mailbox: Any,
    admin_user: Any,
    signed_in: Any,
) -> None:
    # given 3 notebooks at 9.99 net in the cart, shipped to GB (20 %)
    add_to_cart(client, notebook, 3)
    token = go_to_pay(client)

    # the shipping step gives the method's price with tax
    assert "Standard — £5.99" in text_of(client.get("/checkout/shipping"))

    # the review shows gross lines and shipping that add up to the total, the tax included
    review = text_of(client.get("/checkout/review"))
    assert "<small>£11.99 each</small>" in review
    assert cell(review, "total-subtotal") == "£35.97"
    assert cell(review, "total-shipping") == "£5.99"  # 4.99 + 0.998
    assert cell(review, "total-total") == "£41.96"
    assert "Total includes tax of £7.00 (20%)" in review
    assert 'id="total-tax"' not in review  # no tax added on top

    # when the customer pays
    response = pay(client, token, CARD_SUCCEEDS)
    assert response.status_code == 303

    # then exactly what was shown is charged: 35.97 + 5.99
    [order] = orders()
    assert (order.subtotal_minor, order.shipping_minor, order.tax_minor) == (2997, 499, 700)
    assert order.total_minor == 4196
    [payment] = db.session.scalars(select(Payment)).all()
    assert payment.amount_minor == 4196

    # and the confirmation page and the email say the total includes the tax
    complete = text_of(client.get(f"/checkout/complete/{order.number}"))
    assert "Total includes tax of £7.00 (20%)" in complete
    assert '<td data-label="Unit price">£11.99</td>' in complete
    assert '<td data-label="Total">£35.97</td>' in complete
    [email] = [message for message in mailbox if "confirmed" in message["Subject"]]
    body = email.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "3 \N{MULTIPLICATION SIGN} Dot notebook (NOTE-1), NOTE-1: £11.99 each, £35.97" in body
    assert "Shipping (Standard): £5.99\nTotal: £41.96\nTotal includes tax of £7.00 (20%)" in body

    # while staff see the order net, the tax on its own line
    staff_page = text_of(signed_in(admin_user).get(f"/staff/orders/{order.number}"))
    assert '<td data-label="Unit price">£9.99</td>' in staff_page
    assert "Tax (20%)</th><td>£7.00</td>" in staff_page
    assert "Total includes tax" not in staff_page


@pytest.mark.story("US-62")
@pytest.mark.config(**NET)
def test_in_net_mode_prices_and_totals_are_as_before(
    client: FlaskClient, notebook: Variant
) -> None:
    product = text_of(client.get("/p/dot-notebook"))
    assert '<p class="price" id="selected-price">£9.99</p>' in product
    assert '<small id="selected-price-label">excl. VAT</small>' in product

    add_to_cart(client, notebook, 3)
    cart = text_of(client.get("/cart"))
    assert '<td id="cart-subtotal">£29.97</td>' in cart

    token = go_to_pay(client)
    review = text_of(client.get("/checkout/review"))
    assert "<small>£9.99 each</small>" in review
    assert cell(review, "total-subtotal") == "£29.97"
    assert cell(review, "total-shipping") == "£4.99"
    assert cell(review, "total-tax") == "£6.99"  # 20 % of 34.96, rounded once
    assert cell(review, "total-total") == "£41.95"
    assert "Total includes tax" not in review

    assert pay(client, token, CARD_SUCCEEDS).status_code == 303
    [order] = orders()
    assert (order.tax_minor, order.total_minor) == (699, 4195)


@pytest.mark.story("US-62")
@pytest.mark.config(**GROSS)
def test_a_signed_in_shopper_sees_the_tax_of_their_default_addresss_country(
    app: Flask, customer: Any, signed_in: Any, notebook: Variant
) -> None:
    # given a customer whose default address is in Germany (19 %)
    AddressFactory(user_id=customer.id, country_code="DE", is_default_shipping=True)
    browser = signed_in(customer)

    # then the notebook shows at 9.99 + 1.90 (1.8981 rounded half up)
    product = text_of(browser.get("/p/dot-notebook"))
    assert '<p class="price" id="selected-price">£11.89</p>' in product


@pytest.mark.story("US-62")
@pytest.mark.config(**GROSS)
def test_a_shopper_in_a_country_without_vat_sees_the_tax_wording(
    app: Flask, customer: Any, signed_in: Any, notebook: Variant
) -> None:
    AddressFactory(user_id=customer.id, country_code="US", is_default_shipping=True)
    browser = signed_in(customer)

    product = text_of(browser.get("/p/dot-notebook"))

    assert '<p class="price" id="selected-price">£9.99</p>' in product
    assert '<small id="selected-price-label">incl. tax</small>' in product


@pytest.mark.story("US-62")
@pytest.mark.config(**NET)
def test_an_admin_turns_gross_prices_on_and_the_storefront_follows(
    app: Flask, admin_user: Any, signed_in: Any, client: FlaskClient, notebook: Variant
) -> None:
    admin = signed_in(admin_user)
    page = text_of(admin.get("/staff/settings"))
    assert 'name="prices_include_tax"' in page
    assert 'name="shop_country" type="text" value="GB"' in page

    # when the admin ticks "Storefront prices include tax"
    response = save(admin, prices_include_tax="y", shop_country="GB")
    assert response.status_code == 303

    # then shoppers see prices with tax at their next request
    product = text_of(client.get("/p/dot-notebook"))
    assert '<p class="price" id="selected-price">£11.99</p>' in product
    assert "Storefront prices include tax" in text_of(admin.get("/staff/settings"))


@pytest.mark.story("US-62")
@pytest.mark.config(**NET)
def test_a_shop_country_that_is_not_one_is_refused_beside_its_field(
    app: Flask, admin_user: Any, signed_in: Any
) -> None:
    admin = signed_in(admin_user)

    response = save(admin, shop_country="XX")

    assert response.status_code == 422
    assert "A country&#39;s ISO code, such as GB or DE." in response.get_data(as_text=True)


@pytest.mark.story("US-62")
@pytest.mark.config(**GROSS)
def test_a_price_filter_reads_the_prices_as_shown(client: FlaskClient, notebook: Variant) -> None:
    path = category_path(notebook)

    # the notebook shows at 11.99: "at most 11.99" keeps it, "at most 11.98" leaves it out
    assert "Dot notebook" in text_of(client.get(f"{path}?max_price=11.99"))
    assert "Dot notebook" not in text_of(client.get(f"{path}?max_price=11.98"))
    assert "Dot notebook" in text_of(client.get("/search?q=notebook&min_price=11.99"))
    assert "Dot notebook" not in text_of(client.get("/search?q=notebook&min_price=12.00"))


def card_price(html: str) -> str:
    """The price on the notebook's card (a listing shows one product here)."""
    match = re.search(r'<p class="price">([^<]+) <small class="price-label">([^<]+)</small>', html)
    assert match, "no card price"
    return f"{match.group(1)} {match.group(2)}"


@pytest.mark.story("US-62")
@pytest.mark.config(**GROSS)
def test_shoppers_of_three_countries_reading_the_same_listings_each_see_their_own_prices(
    app: Flask, customer: Any, signed_in: Any, client: FlaskClient, notebook: Variant
) -> None:
    # given a shopper in Germany (19 %), one in the US (no VAT) and a visitor (the shop's GB)
    AddressFactory(user_id=customer.id, country_code="DE", is_default_shipping=True)
    american = UserFactory(email="american@example.com")
    AddressFactory(user_id=american.id, country_code="US", is_default_shipping=True)
    german, in_the_us = signed_in(customer), signed_in(american)

    # when each reads the same listings in turn, twice (the second time as kept per worker)
    for path in (category_path(notebook), "/search?q=notebook", "/", category_path(notebook)):
        shown = [card_price(text_of(shopper.get(path))) for shopper in (german, in_the_us, client)]

        # then each sees the notebook at their own country's price
        assert shown == ["£11.89 incl. VAT", "£9.99 incl. tax", "£11.99 incl. VAT"], path


@pytest.mark.story("US-62")
@pytest.mark.config(**NET)
def test_an_admin_turns_gross_prices_on_and_the_listings_follow_at_the_next_request(
    app: Flask, admin_user: Any, signed_in: Any, client: FlaskClient, notebook: Variant
) -> None:
    # given the listings read at net prices (and so kept per worker)
    paths = (category_path(notebook), "/search?q=notebook", "/")
    assert [card_price(text_of(client.get(path))) for path in paths] == ["£9.99 excl. VAT"] * 3

    # when the admin turns gross prices on
    assert save(signed_in(admin_user), prices_include_tax="y", shop_country="GB").status_code == 303

    # then the next read of each listing shows the price with its tax
    assert [card_price(text_of(client.get(path))) for path in paths] == ["£11.99 incl. VAT"] * 3
