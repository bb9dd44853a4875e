"""Staff product and variant forms (US-17): create, edit, add and edit variants, bad input."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask

from funnel.accounts.models import User
from funnel.catalog import queries
from funnel.catalog.models import Product, ProductStatus
from funnel.extensions import db
from tests.factories.catalog import CategoryFactory, ProductFactory
from tests.support.api_staff import catalogue_state
from tests.support.staff_pages import field_error


def _fresh(product_id: int) -> Product:
    return queries.product_for_staff(product_id)


def _product_form(category_id: int, /, **changes: str) -> dict[str, str]:
    return {
        "title": "Enamel mug",
        "category_id": str(category_id),
        "status": "draft",
        "description": "Holds 350 ml.",
        "seo_title": "Enamel mug for camping",
        "seo_description": "A light mug.",
        **changes,
    }


@pytest.mark.story("US-17")
def test_staff_create_a_draft_product(app: Flask, staff_user: User, signed_in) -> None:
    category = CategoryFactory(name="Mugs")
    browser = signed_in(staff_user)

    response = browser.post("/staff/products/new", data=_product_form(category.id))

    created = db.session.scalars(sa.select(Product)).one()
    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/products/{created.id}"
    assert (
        created.title,
        created.slug,
        created.category_id,
        created.status,
        created.description,
        created.seo_title,
        created.seo_description,
        created.is_featured,
    ) == (
        "Enamel mug",
        "enamel-mug",
        category.id,
        ProductStatus.DRAFT,
        "Holds 350 ml.",
        "Enamel mug for camping",
        "A light mug.",
        False,
    )
    page = browser.get(response.headers["Location"]).text
    assert "Product Enamel mug created: now add its variants." in page
    assert "No variants yet" in page


@pytest.mark.story("US-17")
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": " "}, "title", "This field is required."),
        ({"title": "x" * 201}, "title", "At most 200 characters."),
        ({"seo_description": "x" * 321}, "seo_description", "At most 320 characters."),
        ({"category_id": ""}, "category_id", "Choose a category."),
        ({"category_id": "999999"}, "category_id", "Not a valid choice."),
        ({"status": "sold"}, "status", "Not a valid choice."),
        (
            {"status": "active"},
            "status",
            "A product needs at least one variant before it can be shown to customers",
        ),
    ],
)
def test_a_bad_new_product_is_shown_again_and_creates_nothing(
    app: Flask, staff_user: User, signed_in, changes: dict[str, str], field: str, message: str
) -> None:
    category = CategoryFactory(name="Mugs")
    before = catalogue_state()

    response = signed_in(staff_user).post(
        "/staff/products/new", data=_product_form(category.id, **changes)
    )

    assert response.status_code == 422
    assert field_error(response.text, field) == message
    assert catalogue_state() == before


@pytest.mark.story("US-17")
def test_staff_edit_a_product_and_make_it_active(app: Flask, staff_user: User, signed_in) -> None:
    product = ProductFactory(title="Mug", status=ProductStatus.DRAFT)
    other = CategoryFactory(name="Camping")
    browser = signed_in(staff_user)

    response = browser.post(
        f"/staff/products/{product.id}",
        data=_product_form(other.id, title="Camping mug", status="active", is_featured="y"),
    )

    edited = _fresh(product.id)
    assert response.status_code == 303
    assert (edited.title, edited.slug, edited.category_id, edited.status, edited.is_featured) == (
        "Camping mug",
        "camping-mug",
        other.id,
        ProductStatus.ACTIVE,
        True,
    )
    assert "The product has been saved." in browser.get(f"/staff/products/{product.id}").text


@pytest.mark.story("US-17")
def test_a_product_without_variants_cannot_be_made_active(
    app: Flask, staff_user: User, signed_in
) -> None:
    product = ProductFactory(title="Mug", status=ProductStatus.DRAFT, variants=[])
    before = catalogue_state()

    response = signed_in(staff_user).post(
        f"/staff/products/{product.id}",
        data=_product_form(product.category_id, title="Renamed", status="active"),
    )

    assert response.status_code == 422
    assert field_error(response.text, "status") == (
        "A product needs at least one variant before it can be shown to customers"
    )
    assert 'value="Renamed"' in response.text
    assert catalogue_state() == before


@pytest.mark.story("US-17")
def test_the_product_page_shows_its_variants_and_their_stock(
    app: Flask, staff_user: User, signed_in
) -> None:
    product = ProductFactory(
        title="Mug",
        variants=[
            {"sku": "MUG-S", "price": 950, "stock_quantity": 7, "options": {"Size": "S"}},
            {"sku": "MUG-L", "price": 1250, "stock_quantity": 0, "options": {"Size": "L"}},
        ],
    )

    page = signed_in(staff_user).get(f"/staff/products/{product.id}").text

    rows = page.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    cells = [
        [cell.split("</td>")[0] for cell in row.split("<td>")[1:5]]
        + [re.sub(r"<[^>]+>", "", row.split("<td>")[5].split("</td>")[0])]
        for row in rows
    ]
    assert cells == [
        ["MUG-S", "", "Size: S", "$9.50", "7"],
        ["MUG-L", "", "Size: L", "$12.50", "0"],
    ]
    stock_links = re.findall(r'<a href="(/staff/variants/\d+/stock)" aria-label="([^"]+)"', page)
    assert [label for _, label in stock_links] == ["Stock of MUG-S: 7", "Stock of MUG-L: 0"]


# -- variants ------------------------------------------------------------------------------


@pytest.mark.story("US-17")
def test_staff_add_a_variant_with_a_decimal_price_and_options(
    app: Flask, staff_user: User, signed_in
) -> None:
    product = ProductFactory(title="Mug", status=ProductStatus.DRAFT, variants=[])
    browser = signed_in(staff_user)

    response = browser.post(
        f"/staff/products/{product.id}/variants",
        data={
            "variant-sku": "mug-red-l",
            "variant-title": "Large, red",
            "variant-price": "12.50",
            "variant-options-0-name": "size",
            "variant-options-0-value": " L ",
            "variant-options-1-name": "Colour",
            "variant-options-1-value": "Red",
            "variant-stock_quantity": "99",
        },
    )

    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/products/{product.id}"
    variant = _fresh(product.id).variants[0]
    assert (variant.sku, variant.title, variant.price_amount, variant.currency) == (
        "MUG-RED-L",
        "Large, red",
        1250,
        "USD",
    )
    assert [(option.name, option.value) for option in variant.option_values] == [
        ("Size", "L"),
        ("Colour", "Red"),
    ]
    assert variant.stock_quantity == 0
    assert "Variant MUG-RED-L added." in browser.get(f"/staff/products/{product.id}").text


@pytest.mark.story("US-17")
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"variant-price": "12.505"},
            "variant-price",
            "'12.505' has more decimals than USD allows",
        ),
        ({"variant-price": "-1"}, "variant-price", "Must be 0 or more."),
        ({"variant-price": "cheap"}, "variant-price", "'cheap' is not an amount"),
        ({"variant-sku": "MUG-TAKEN"}, "variant-sku", "This SKU is already used."),
        (
            {"variant-sku": "no spaces"},
            "variant-sku",
            "Use 1 to 64 letters, digits, dots, dashes or underscores.",
        ),
        (
            {"variant-options-1-name": "SIZE", "variant-options-1-value": "M"},
            "variant-options",
            "Size is given twice.",
        ),
        (
            {"variant-options-1-name": "Colour"},
            "variant-options",
            "Colour value: This field is required.",
        ),
    ],
)
def test_a_bad_variant_is_shown_again_and_adds_nothing(
    app: Flask, staff_user: User, signed_in, changes: dict[str, str], field: str, message: str
) -> None:
    product = ProductFactory(title="Mug", variants=[{"sku": "MUG-TAKEN"}])
    before = catalogue_state()
    form = {
        "variant-sku": "MUG-NEW",
        "variant-price": "5.00",
        "variant-options-0-name": "Size",
        "variant-options-0-value": "S",
        **changes,
    }

    response = signed_in(staff_user).post(f"/staff/products/{product.id}/variants", data=form)

    assert response.status_code == (409 if "TAKEN" in form["variant-sku"] else 422)
    assert field_error(response.text, field) == message
    assert catalogue_state() == before


@pytest.mark.story("US-17")
def test_staff_edit_a_variant(app: Flask, staff_user: User, signed_in) -> None:
    product = ProductFactory(
        title="Mug", variants=[{"sku": "MUG-S", "price": 950, "options": {"Size": "S"}}]
    )
    variant = _fresh(product.id).variants[0]
    browser = signed_in(staff_user)

    page = browser.get(f"/staff/products/{product.id}/variants/{variant.id}").text
    response = browser.post(
        f"/staff/products/{product.id}/variants/{variant.id}",
        data={
            "sku": "MUG-SMALL",
            "price": "10",
            "options-0-name": "Size",
            "options-0-value": "Small",
            "options-1-name": "Colour",
            "options-1-value": "Blue",
        },
    )

    assert 'value="9.50"' in page
    assert 'value="MUG-S"' in page
    assert response.status_code == 303
    edited = _fresh(product.id).variants[0]
    assert (edited.sku, edited.price_amount, edited.stock_quantity) == ("MUG-SMALL", 1000, 5)
    assert [(option.name, option.value) for option in edited.option_values] == [
        ("Size", "Small"),
        ("Colour", "Blue"),
    ]
    assert _fresh(product.id).min_price_amount == 1000


@pytest.mark.story("US-17")
def test_a_bad_variant_edit_changes_nothing(app: Flask, staff_user: User, signed_in) -> None:
    product = ProductFactory(title="Mug", variants=[{"sku": "MUG-S"}])
    ProductFactory(title="Cup", variants=[{"sku": "CUP-S"}])
    variant = _fresh(product.id).variants[0]
    before = catalogue_state()

    response = signed_in(staff_user).post(
        f"/staff/products/{product.id}/variants/{variant.id}",
        data={"sku": "cup-s", "price": "3.00"},
    )

    assert response.status_code == 409
    assert field_error(response.text, "sku") == "This SKU is already used."
    assert catalogue_state() == before


@pytest.mark.story("US-17")
def test_unknown_products_and_variants_are_404(app: Flask, staff_user: User, signed_in) -> None:
    product = ProductFactory(title="Mug", variants=[{"sku": "MUG-S"}])
    other = ProductFactory(title="Cup", variants=[{"sku": "CUP-S"}])
    variant_of_other = _fresh(other.id).variants[0]
    browser = signed_in(staff_user)
    before = catalogue_state()

    statuses = [
        browser.get("/staff/products/999999").status_code,
        browser.post("/staff/products/999999", data={"title": "X"}).status_code,
        browser.post("/staff/products/999999/variants", data={"variant-sku": "X"}).status_code,
        browser.get(f"/staff/products/{product.id}/variants/999999").status_code,
        browser.get(f"/staff/products/{product.id}/variants/{variant_of_other.id}").status_code,
        browser.post(
            f"/staff/products/{product.id}/variants/{variant_of_other.id}",
            data={"sku": "Y", "price": "1"},
        ).status_code,
        browser.get("/staff/products/99999999999").status_code,
    ]

    assert statuses == [404] * 7
    assert catalogue_state() == before


@pytest.mark.story("US-17")
@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_catalogue_forms_without_a_csrf_token_are_refused(
    app: Flask, staff_user: User, signed_in
) -> None:
    # given a category and a product with a variant
    category = CategoryFactory(name="Mugs")
    product = ProductFactory(title="Mug", category_id=category.id, variants=[{"sku": "MUG-S"}])
    variant = _fresh(product.id).variants[0]
    browser = signed_in(staff_user)
    before = catalogue_state()

    # then every catalogue form posted without a token is refused with 400, changing nothing
    posts = [
        ("/staff/categories", {"name": "Hats", "parent_id": ""}),
        (f"/staff/categories/{category.id}/up", {}),
        (f"/staff/categories/{category.id}/delete", {}),
        ("/staff/products/new", _product_form(category.id)),
        (f"/staff/products/{product.id}", _product_form(category.id)),
        ("/staff/products/bulk", {"action": "archive", "product_ids": str(product.id)}),
        (f"/staff/products/{product.id}/variants", {"variant-sku": "X-1", "variant-price": "1"}),
        (f"/staff/products/{product.id}/variants/{variant.id}", {"sku": "X-2", "price": "1"}),
    ]
    assert [browser.post(path, data=form).status_code for path, form in posts] == [400] * 8
    assert catalogue_state() == before

    # and the product page's two forms each carry one (the variant form's under its prefix)
    page = browser.get(f"/staff/products/{product.id}").text
    assert page.count('name="csrf_token" type="hidden" value="') == 1
    assert page.count('name="variant-csrf_token" type="hidden" value="') == 1

    # and the variant form, sent with its prefixed token, is accepted
    token = re.search(r'name="variant-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    added = browser.post(
        f"/staff/products/{product.id}/variants",
        data={"variant-csrf_token": token, "variant-sku": "MUG-L", "variant-price": "2.00"},
    )
    assert added.status_code == 303
