"""US-18, US-08, US-07: the cart pages and the product page's add-to-cart, through the client.

Every refused input re-renders the page it came from with the reason and a 4xx status, and
changes nothing; no GET makes a cart.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from funnel.cart import services
from funnel.cart.access import CART_COOKIE
from funnel.cart.models import Cart, CartLine
from funnel.catalog import services as catalog
from funnel.catalog.models import Variant
from funnel.extensions import db
from funnel.inventory import services as inventory
from tests.cart.helpers import all_lines, cart_count, funnel_events
from tests.catalog.test_pages import check_accessible
from tests.factories.accounts import KNOWN_PASSWORD, UserFactory
from tests.factories.cart import cart_with
from tests.factories.catalog import ProductFactory, image_bytes
from tests.factories.inventory import stocked_variant


def cart_cookie(response: TestResponse) -> str | None:
    """The Set-Cookie header of the cart cookie, if the response sets (or drops) it."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(CART_COOKIE + "="):
            return header
    return None


def add(
    client: FlaskClient, variant_id: object, quantity: object = 1, **extra: str
) -> TestResponse:
    return client.post(
        "/cart/lines", data={"variant_id": str(variant_id), "quantity": str(quantity), **extra}
    )


def line_ids() -> list[int]:
    db.session.commit()
    return list(db.session.scalars(select(CartLine.id).order_by(CartLine.id)))


@pytest.fixture
def tee(app: Flask) -> Variant:
    """An active "Organic tee" whose only variant (M / Red, $19.99) has 5 units."""
    product = ProductFactory(
        title="Organic tee",
        variants=[
            {
                "sku": "TEE-M",
                "price": 1999,
                "stock_quantity": 5,
                "options": {"Size": "M", "Colour": "Red"},
            }
        ],
    )
    return db.session.scalars(select(Variant).where(Variant.product_id == product.id)).one()


# --- guests: the cart cookie -----------------------------------------------------------------


@pytest.mark.story("US-18")
def test_a_guest_adds_to_a_cart_kept_on_the_server_and_found_by_a_cookie(
    client: FlaskClient, tee: Variant
) -> None:
    # when a guest adds 2 tees
    response = add(client, tee.id, 2)

    # then they are sent to the cart (303), which is now on the server
    assert response.status_code == 303
    assert response.headers["Location"] == "/cart"
    cart = db.session.scalars(select(Cart)).one()
    assert cart.user_id is None
    assert all_lines() == [(cart.id, tee.id, 2)]

    # and the browser holds its random token in a 30-day HttpOnly, SameSite=Lax cookie
    header = cart_cookie(response)
    assert header is not None
    assert header.startswith(f"{CART_COOKIE}={cart.token};")
    assert "Max-Age=2592000" in header
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Path=/" in header
    assert "Secure" not in header

    # and the cart page shows the line, its total and the subtotal
    html = client.get("/cart").get_data(as_text=True)
    assert '<a href="/p/organic-tee?variant=' in html
    assert ">Organic tee</a>" in html
    assert "<small>M / Red</small>" in html
    assert '<td data-label="Unit price">$19.99</td>' in html
    assert '<td data-label="Total">$39.98</td>' in html
    assert '<td id="cart-subtotal">$39.98</td>' in html
    assert "Subtotal (2 items)" in html
    assert '<a href="/checkout" class="checkout-link button-link">Checkout</a>' in html
    assert "Cart (2)</a>" in html


@pytest.mark.config(SESSION_COOKIE_SECURE=True)
def test_the_cart_cookie_is_secure_when_the_session_cookie_is(
    client: FlaskClient, tee: Variant
) -> None:
    header = cart_cookie(add(client, tee.id))

    assert header is not None
    assert "Secure" in header


@pytest.mark.story("US-18")
def test_the_cart_is_kept_for_another_browser_session_with_the_cookie(
    app: Flask, client: FlaskClient, tee: Variant
) -> None:
    # given a guest's cart
    add(client, tee.id, 3)
    token = db.session.scalars(select(Cart.token)).one()

    # when the browser comes back later with only its cart cookie
    later = app.test_client()
    later.set_cookie(CART_COOKIE, token)
    html = later.get("/cart").get_data(as_text=True)

    # then the cart is there
    assert 'value="3"' in html
    assert "Cart (3)</a>" in html


@pytest.mark.story("US-18")
def test_reading_pages_makes_no_cart_and_sets_no_cookie(client: FlaskClient, tee: Variant) -> None:
    for url in ("/", "/cart", "/p/organic-tee"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert cart_cookie(response) is None, url

    assert cart_count() == 0
    assert "Your cart is empty." in client.get("/cart").get_data(as_text=True)
    assert "Cart (0)</a>" in client.get("/cart").get_data(as_text=True)


@pytest.mark.parametrize("token", ["forged-token-that-is-long-enough-to-be-one-ok", "short", ""])
def test_an_unknown_cart_cookie_is_dropped_and_shows_an_empty_cart(
    client: FlaskClient, tee: Variant, token: str
) -> None:
    client.set_cookie(CART_COOKIE, token)

    response = client.get("/cart")

    assert response.status_code == 200
    assert "Your cart is empty." in response.get_data(as_text=True)
    header = cart_cookie(response)
    assert header is not None
    assert header.startswith(f"{CART_COOKIE}=;")
    assert "Max-Age=0" in header
    assert cart_count() == 0


def test_an_accounts_cart_cannot_be_reached_by_its_token(client: FlaskClient, tee: Variant) -> None:
    cart = cart_with({tee: 1}, user=UserFactory())
    client.set_cookie(CART_COOKIE, cart.token)

    assert "Your cart is empty." in client.get("/cart").get_data(as_text=True)


# --- prices come from the server ---------------------------------------------------------------


@pytest.mark.story("US-18")
def test_a_posted_price_is_ignored_and_the_catalogue_price_shown(
    client: FlaskClient, tee: Variant
) -> None:
    # when the form is posted with a price of its own
    add(client, tee.id, 1, price="0.01", price_amount="1", unit_price="0.01")

    # then the catalogue's price is the one shown
    html = client.get("/cart").get_data(as_text=True)
    assert '<td id="cart-subtotal">$19.99</td>' in html
    assert "$0.01" not in html

    # and when the catalogue price changes, the cart follows it
    catalog.update_variant(tee.id, price=catalog.parse_price("17.50"))
    html = client.get("/cart").get_data(as_text=True)
    assert '<td id="cart-subtotal">$17.50</td>' in html


# --- changing and removing ---------------------------------------------------------------------


@pytest.mark.story("US-18")
def test_a_guest_changes_a_quantity_and_removes_a_line(client: FlaskClient, tee: Variant) -> None:
    # given a line of 1 tee
    add(client, tee.id, 1)
    [line_id] = line_ids()

    # when the quantity is changed to 4
    response = client.post(f"/cart/lines/{line_id}", data={"quantity": "4"})

    # then the line holds 4
    assert response.status_code == 303
    assert response.headers["Location"] == "/cart"
    assert [quantity for _, _, quantity in all_lines()] == [4]
    html = client.get("/cart").get_data(as_text=True)
    assert "Quantity updated." in html
    assert '<td id="cart-subtotal">$79.96</td>' in html

    # when it is removed
    response = client.post(f"/cart/lines/{line_id}/delete")

    # then the cart is empty
    assert response.status_code == 303
    assert all_lines() == []
    html = client.get("/cart").get_data(as_text=True)
    assert "Removed from your cart." in html
    assert "Your cart is empty." in html


@pytest.mark.story("US-18")
@pytest.mark.parametrize(
    ("quantity", "status", "message"),
    [
        ("abc", 422, "Enter the quantity as a whole number, such as 1 or 2."),
        ("1.5", 422, "Enter the quantity as a whole number, such as 1 or 2."),
        ("-1", 422, "Enter the quantity as a whole number, such as 1 or 2."),
        ("", 422, "Enter the quantity as a whole number, such as 1 or 2."),
        ("0", 422, "Enter a whole number of 1 or more."),
        ("6", 422, "Only 5 left: choose a quantity from 1 to 5."),
        ("99999999999999999999999", 422, "Only 5 left: choose a quantity from 1 to 5."),
    ],
)
def test_a_bad_quantity_change_is_refused_on_the_cart_page(
    client: FlaskClient, tee: Variant, quantity: str, status: int, message: str
) -> None:
    # given a line of 2 tees
    add(client, tee.id, 2)
    [line_id] = line_ids()

    # when a bad quantity is posted
    response = client.post(f"/cart/lines/{line_id}", data={"quantity": quantity})

    # then the cart page says why, with a 4xx, and nothing changed
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert (
        f'<article class="flash flash-error" role="alert" id="cart-error">{message}</article>'
        in (html)
    )
    assert 'aria-invalid="true"' in html
    assert [quantity for _, _, quantity in all_lines()] == [2]


@pytest.mark.story("US-18")
@pytest.mark.parametrize("path", ["/cart/lines/{their}", "/cart/lines/{their}/delete"])
def test_another_carts_line_is_not_found(
    app: Flask, client: FlaskClient, tee: Variant, path: str
) -> None:
    # given my cart and another browser's
    add(client, tee.id, 1)
    other = app.test_client()
    add(other, tee.id, 2)
    their = line_ids()[1]

    # when I post to their line
    response = client.post(path.format(their=their), data={"quantity": "1"})

    # then it is not found, and their line is unchanged
    assert response.status_code == 404
    assert "This item is not in your cart" in response.get_data(as_text=True)
    assert [quantity for _, _, quantity in all_lines()] == [1, 2]


@pytest.mark.parametrize("line", ["999999", "abc", "99999999999999999999", "-1", "0"])
def test_an_unknown_line_is_not_found(client: FlaskClient, tee: Variant, line: str) -> None:
    add(client, tee.id, 1)

    assert client.post(f"/cart/lines/{line}", data={"quantity": "1"}).status_code == 404
    assert client.post(f"/cart/lines/{line}/delete").status_code == 404
    assert [quantity for _, _, quantity in all_lines()] == [1]


def test_changing_a_line_without_a_cart_is_not_found(client: FlaskClient, tee: Variant) -> None:
    assert client.post("/cart/lines/1", data={"quantity": "1"}).status_code == 404
    assert client.post("/cart/lines/1/delete").status_code == 404
    assert cart_count() == 0


# --- adding: refused input ---------------------------------------------------------------------


@pytest.mark.story("US-18")
@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("abc", "Enter the quantity as a whole number, such as 1 or 2."),
        ("2.5", "Enter the quantity as a whole number, such as 1 or 2."),
        ("-3", "Enter the quantity as a whole number, such as 1 or 2."),
        ("0", "Enter a whole number of 1 or more."),
        ("6", "Only 5 left: choose a quantity from 1 to 5."),
        ("1" * 40, "Only 5 left: choose a quantity from 1 to 5."),
    ],
)
def test_a_bad_quantity_to_add_is_refused_on_the_product_page(
    client: FlaskClient, tee: Variant, quantity: str, message: str
) -> None:
    # when a bad quantity is posted from the product page
    response = add(client, tee.id, quantity)

    # then the product page says why (422), keeps what was typed, and no cart was made
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<h1>Organic tee</h1>" in html
    assert f'<p class="field-error" id="add-to-cart-error" role="alert">{message}</p>' in html
    assert f'value="{quantity[:12]}"' in html
    assert cart_count() == 0
    assert cart_cookie(response) is None


@pytest.mark.story("US-18")
def test_adding_beyond_what_is_left_says_how_many_can_still_be_added(
    client: FlaskClient, tee: Variant
) -> None:
    add(client, tee.id, 4)

    response = add(client, tee.id, 2)

    assert response.status_code == 422
    assert "Only 5 left and your cart already holds 4: you can add up to 1 more." in (
        response.get_data(as_text=True)
    )
    assert [quantity for _, _, quantity in all_lines()] == [4]


@pytest.mark.parametrize("variant_id", ["999999", "abc", "", "-1", "99999999999999999999999"])
def test_an_unknown_variant_is_refused_on_the_cart_page(
    client: FlaskClient, tee: Variant, variant_id: str
) -> None:
    response = add(client, variant_id, 1)

    assert response.status_code == 404
    assert "This product does not exist" in response.get_data(as_text=True)
    assert cart_count() == 0


@pytest.mark.story("US-18")
def test_an_archived_product_cannot_be_added(client: FlaskClient, tee: Variant) -> None:
    catalog.archive_product(tee.product_id)

    response = add(client, tee.id, 1)

    assert response.status_code == 422
    assert "This product is no longer sold." in response.get_data(as_text=True)
    assert cart_count() == 0


@pytest.mark.story("US-18")
def test_units_reserved_by_other_customers_cannot_be_added_from_the_page(
    client: FlaskClient, tee: Variant
) -> None:
    # given 3 of the 5 tees held by another customer's checkout
    inventory.reserve("checkout:another-customer", {tee.id: 3})

    # when 3 are added, it is refused: 2 are left
    response = add(client, tee.id, 3)
    assert response.status_code == 422
    assert "Only 2 left: choose a quantity from 1 to 2." in response.get_data(as_text=True)

    # and 2 can be added
    assert add(client, tee.id, 2).status_code == 303
    assert [quantity for _, _, quantity in all_lines()] == [2]


def test_a_get_on_the_forms_changes_nothing(client: FlaskClient, tee: Variant) -> None:
    add(client, tee.id, 1)
    [line_id] = line_ids()

    for url in ("/cart/lines", f"/cart/lines/{line_id}", f"/cart/lines/{line_id}/delete"):
        assert client.get(url).status_code == 405, url

    assert [quantity for _, _, quantity in all_lines()] == [1]


@pytest.mark.story("US-07")
@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_cart_forms_without_a_csrf_token_are_refused(
    app: Flask, client: FlaskClient, tee: Variant
) -> None:
    # given a guest cart with one line (made directly: the client has no token yet)
    cart = cart_with({tee: 1})
    client.set_cookie(CART_COOKIE, cart.token)
    [line_id] = line_ids()

    # then every form posted without a token is refused with 400, and nothing changes
    assert add(client, tee.id, 1).status_code == 400
    assert client.post(f"/cart/lines/{line_id}", data={"quantity": "3"}).status_code == 400
    assert client.post(f"/cart/lines/{line_id}/delete").status_code == 400
    assert all_lines() == [(cart.id, tee.id, 1)]

    # and the cart page's forms each carry one
    html = client.get("/cart").get_data(as_text=True)
    assert len(re.findall(r'<input type="hidden" name="csrf_token" value="[^"]+">', html)) == 2


# --- problems shown per line -------------------------------------------------------------------


@pytest.mark.story("US-18")
def test_lines_that_cannot_be_bought_as_they_are_are_flagged(
    client: FlaskClient, tee: Variant
) -> None:
    # given a cart with 4 tees and a lamp
    lamp = stocked_variant(5)
    add(client, tee.id, 4)
    add(client, lamp.id, 1)

    # when the tee's stock falls to 2 and the lamp is archived
    inventory.adjust_stock(tee.id, new_level=2, reason="counted")
    catalog.archive_product(lamp.product_id)

    # then each line says what is wrong, and the checkout is not offered
    html = client.get("/cart").get_data(as_text=True)
    assert "Only 2 left — please lower the quantity" in html
    assert "No longer available" in html
    assert "Some items need your attention before you can check out." in html
    assert 'href="/checkout"' not in html


# --- signed-in customers -----------------------------------------------------------------------


@pytest.mark.story("US-18")
def test_a_customers_cart_belongs_to_the_account(
    app: Flask, signed_in, customer, tee: Variant
) -> None:
    # given a customer who adds 2 tees in one browser
    laptop = signed_in(customer)
    response = add(laptop, tee.id, 2)
    assert response.status_code == 303
    assert cart_cookie(response) is None

    # then the cart is the account's
    cart = db.session.scalars(select(Cart)).one()
    assert cart.user_id == customer.id

    # and another browser signed in to the same account sees it
    phone = signed_in(customer)
    html = phone.get("/cart").get_data(as_text=True)
    assert 'value="2"' in html
    assert "Cart (2)</a>" in html

    # while a guest browser does not
    assert "Your cart is empty." in app.test_client().get("/cart").get_data(as_text=True)


@pytest.mark.story("US-18")
def test_signing_in_merges_the_guest_cart_into_the_accounts_cart(
    client: FlaskClient, signed_in, customer, tee: Variant
) -> None:
    # given an account cart with 3 tees, and a guest browser with 4 tees and a lamp
    lamp = stocked_variant(5)
    account_cart = cart_with({tee: 3}, user=customer)
    add(client, tee.id, 4)
    add(client, lamp.id, 1)

    # when the guest signs in (in the same browser) and opens a page
    signed_in(customer, client=client)
    response = client.get("/")

    # then the guest cart was merged: 3 + 4 tees capped at the 5 in stock, and the lamp
    assert response.status_code == 200
    assert "Cart (6)</a>" in response.get_data(as_text=True)
    assert sorted(all_lines()) == sorted(
        [(account_cart.id, tee.id, 5), (account_cart.id, lamp.id, 1)]
    )
    assert cart_count() == 1

    # and the guest cookie was dropped
    header = cart_cookie(response)
    assert header is not None
    assert "Max-Age=0" in header


@pytest.mark.story("US-18", "US-03")
def test_signing_in_through_the_form_merges_the_guest_cart(
    client: FlaskClient, tee: Variant
) -> None:
    # given a customer without a cart, and a guest browser with 2 tees
    user = UserFactory(email="merge@example.com")
    add(client, tee.id, 2)

    # when the guest signs in with the sign-in form and follows the redirect
    response = client.post(
        "/account/sign-in",
        data={"email": "merge@example.com", "password": KNOWN_PASSWORD},
        follow_redirects=True,
    )

    # then the account owns the cart with the 2 tees
    assert response.status_code == 200
    cart = db.session.scalars(select(Cart)).one()
    assert cart.user_id == user.id
    assert all_lines() == [(cart.id, tee.id, 2)]

    # and after signing out, the browser has no cart of its own
    client.post("/account/sign-out")
    assert "Your cart is empty." in client.get("/cart").get_data(as_text=True)


# --- the product page --------------------------------------------------------------------------


@pytest.mark.story("US-08")
def test_the_product_page_has_an_add_to_cart_form(client: FlaskClient, tee: Variant) -> None:
    html = client.get("/p/organic-tee").get_data(as_text=True)

    form = html.split('class="add-to-cart"')[1].split("</form>")[0]
    assert 'action="/cart/lines"' in html
    assert f'<input type="hidden" name="variant_id" value="{tee.id}">' in form
    assert '<label for="quantity">Quantity</label>' in form
    assert '<button type="submit">Add to cart</button>' in form
    check_accessible(html)


@pytest.mark.story("US-08")
def test_an_out_of_stock_variant_cannot_be_added_from_its_page(
    client: FlaskClient, tee: Variant
) -> None:
    inventory.adjust_stock(tee.id, new_level=0, reason="counted")

    html = client.get("/p/organic-tee").get_data(as_text=True)

    form = html.split('class="add-to-cart"')[1].split("</form>")[0]
    assert '<button type="submit" disabled>Out of stock</button>' in form
    assert "Add to cart" not in form
    assert 'name="quantity"' not in form
    assert add(client, tee.id, 1).status_code == 422
    assert cart_count() == 0


@pytest.mark.story("US-13")
def test_the_cart_page_labels_every_control_and_inlines_nothing(
    client: FlaskClient, tee: Variant
) -> None:
    add(client, tee.id, 1)

    html = client.get("/cart").get_data(as_text=True)

    check_accessible(html)
    assert re.search(
        r'<label for="quantity-\d+" class="visually-hidden">Quantity for Organic tee</label>', html
    )
    assert "Update<span" in html
    assert "Remove<span" in html


@pytest.mark.story("US-13")
def test_cart_lines_show_a_thumbnail_and_checkout_is_a_button_styled_link(
    client: FlaskClient, tee: Variant
) -> None:
    # given a cart with a product that has a photo and one that has none
    image = catalog.add_product_image(tee.product_id, image_bytes("PNG"), alt_text="Tee")
    plain = ProductFactory(title="Plain mug", variants=[{"sku": "MUG-1", "stock_quantity": 3}])
    mug = db.session.scalars(select(Variant).where(Variant.product_id == plain.id)).one()
    add(client, tee.id, 1)
    add(client, mug.id, 1)

    html = client.get("/cart").get_data(as_text=True)

    # then the tee's line shows its 400 px thumbnail, the mug's a placeholder
    thumbnail = image.thumbnail(400)
    assert (
        f'<img class="cart-thumbnail" src="/media/{thumbnail}" alt="Organic tee" '
        'width="64" height="64" loading="lazy">'
    ) in html
    assert html.count('<span class="cart-thumbnail cart-thumbnail-none"></span>') == 1
    # and Checkout is a link (it leads to a page) styled as the page's main button
    assert '<a href="/checkout" class="checkout-link button-link">Checkout</a>' in html
    # each cell says what it is, for the stacked cards of phones
    assert '<td data-label="Quantity">' in html
    check_accessible(html)


# --- funnel events -----------------------------------------------------------------------------


@pytest.mark.story("US-37")
def test_viewing_a_product_and_adding_it_record_funnel_events(
    tracked: Flask, client: FlaskClient, tee: Variant
) -> None:
    # when a visitor views the product, adds it, then fails to add too many
    client.get("/p/organic-tee")
    add(client, tee.id, 1)
    add(client, tee.id, 50)

    # then one product view and one add to cart were recorded, for that product
    assert funnel_events() == [
        ("product_view", None, tee.product_id),
        ("add_to_cart", None, tee.product_id),
    ]


# --- cost --------------------------------------------------------------------------------------


@pytest.mark.story("US-11")
def test_the_cart_page_runs_the_same_queries_for_1_or_8_lines(
    client: FlaskClient, sql_statements: list[str], tee: Variant
) -> None:
    # given a cart with one line, and today's visit already counted
    add(client, tee.id, 1)
    client.get("/cart")

    # when the page is read with 1 line, then with 8
    sql_statements.clear()
    assert client.get("/cart").status_code == 200
    one = len(sql_statements)
    for _ in range(7):
        add(client, stocked_variant(5).id, 1)
    sql_statements.clear()
    assert client.get("/cart").status_code == 200
    eight = len(sql_statements)

    # then the same few statements ran: the cart, its lines, their labels, their availability,
    # and the shop's settings (read once a request)
    assert one == eight == 5


def test_pages_without_a_cart_cookie_or_account_do_not_query_carts(
    client: FlaskClient, sql_statements: list[str], tee: Variant
) -> None:
    sql_statements.clear()
    client.get("/")
    client.get("/cart")

    assert [statement for statement in sql_statements if "cart" in statement] == []


def test_services_can_be_used_for_an_api_too(app: Flask, tee: Variant) -> None:
    # a smoke test of the services behind the pages, without a request
    cart = services.create_cart()
    services.add_item(cart.id, tee.id, 1)

    assert all_lines() == [(cart.id, tee.id, 1)]
