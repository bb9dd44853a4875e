"""Staff product pages (US-17): list, search, filters, sort, pages, bulk edits, product forms."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts.models import User
from funnel.catalog.models import Product, ProductStatus
from funnel.core.clock import utcnow
from funnel.extensions import db
from tests.factories.catalog import CategoryFactory, ProductFactory
from tests.support.api_staff import catalogue_state
from tests.support.staff_pages import PAGE_ROLES, browser_for


def _titles(page: str) -> list[str]:
    """The product titles of the list, in order."""
    return [
        html.unescape(title)
        for title in re.findall(r'<td><a href="/staff/products/\d+">([^<]+)</a></td>', page)
    ]


def _product(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    db.session.refresh(product)
    return product


def _list_requests(product: Product) -> dict[str, tuple[str, str, dict[str, str], int]]:
    return {
        "list": ("GET", "/staff/products?q=mug&status=draft&sort=title", {}, 200),
        "bulk": (
            "POST",
            "/staff/products/bulk",
            {"action": "archive", "product_ids": str(product.id)},
            303,
        ),
        "new_page": ("GET", "/staff/products/new", {}, 200),
        "create": (
            "POST",
            "/staff/products/new",
            {"title": "Teapot", "category_id": str(product.category_id), "status": "draft"},
            303,
        ),
    }


@pytest.mark.story("US-17")
@pytest.mark.parametrize("role", PAGE_ROLES)
@pytest.mark.parametrize("route", ["list", "bulk", "new_page", "create"])
def test_product_list_pages_need_the_catalogue_permission(
    app: Flask, client: FlaskClient, signed_in, monkeypatch, role: str, route: str
) -> None:
    # given a draft product and a browser of ``role``
    product = ProductFactory(title="Mug", status=ProductStatus.DRAFT)
    method, path, form, success = _list_requests(product)[route]
    browser = browser_for(role, client, signed_in, monkeypatch)
    before = catalogue_state()

    # when it opens the page or sends the form
    response = browser.open(path, method=method, data=form)

    # then only staff with catalog.manage (staff, admins) get through; the others change nothing
    _assert_outcome(response, role, success, "%2Fstaff%2Fproducts")
    if role not in {"staff", "admin"}:
        assert catalogue_state() == before


def _assert_outcome(response, role: str, success: int, next_prefix: str) -> None:
    if role == "anonymous":
        assert response.status_code == 302
        assert response.headers["Location"].startswith(f"/account/sign-in?next={next_prefix}")
    elif role == "customer":
        assert response.status_code == 403
        assert "This page is for shop staff only." in response.text
    elif role == "staff_without_catalogue":
        assert response.status_code == 403
        assert "This page needs the catalog.manage permission." in response.text
    else:
        assert response.status_code == success, response.text


def _product_requests(product: Product) -> dict[str, tuple[str, str, dict[str, str], int]]:
    variant = product.variants[0]
    base = f"/staff/products/{product.id}"
    return {
        "edit_page": ("GET", base, {}, 200),
        "edit": (
            "POST",
            base,
            {"title": "Renamed", "category_id": str(product.category_id), "status": "draft"},
            303,
        ),
        "add_variant": (
            "POST",
            f"{base}/variants",
            {"variant-sku": "MUG-XL", "variant-price": "15.00"},
            303,
        ),
        "variant_page": ("GET", f"{base}/variants/{variant.id}", {}, 200),
        "edit_variant": (
            "POST",
            f"{base}/variants/{variant.id}",
            {"sku": "MUG-S", "price": "9.00"},
            303,
        ),
    }


@pytest.mark.story("US-17")
@pytest.mark.parametrize("role", PAGE_ROLES)
@pytest.mark.parametrize(
    "route", ["edit_page", "edit", "add_variant", "variant_page", "edit_variant"]
)
def test_product_and_variant_pages_need_the_catalogue_permission(
    app: Flask, client: FlaskClient, signed_in, monkeypatch, role: str, route: str
) -> None:
    from funnel.catalog import queries

    product = queries.product_for_staff(
        ProductFactory(title="Mug", status=ProductStatus.DRAFT, variants=[{"sku": "MUG-M"}]).id
    )
    method, path, form, success = _product_requests(product)[route]
    browser = browser_for(role, client, signed_in, monkeypatch)
    before = catalogue_state()

    response = browser.open(path, method=method, data=form)

    _assert_outcome(response, role, success, "%2Fstaff%2Fproducts%2F")
    if role not in {"staff", "admin"}:
        assert catalogue_state() == before


# -- the list ------------------------------------------------------------------------------


@pytest.mark.story("US-17")
def test_the_list_searches_titles_and_skus_and_filters(
    app: Flask, staff_user: User, signed_in
) -> None:
    mugs = CategoryFactory(name="Mugs")
    plates = CategoryFactory(name="Plates")
    ProductFactory(title="Enamel Mug", category_id=mugs.id, variants=[{"sku": "EN-1"}])
    ProductFactory(
        title="Stoneware cup",
        category_id=mugs.id,
        variants=[{"sku": "MUG-STONE"}],
        status=ProductStatus.DRAFT,
    )
    ProductFactory(title="Dinner plate", category_id=plates.id, variants=[{"sku": "PL-1"}])
    browser = signed_in(staff_user)

    by_text = browser.get("/staff/products?q=mug&sort=title").text
    drafts = browser.get("/staff/products?status=draft").text
    in_plates = browser.get(f"/staff/products?category={plates.id}").text
    by_sku = browser.get("/staff/products?q=pl-1").text

    assert _titles(by_text) == ["Enamel Mug", "Stoneware cup"]
    assert "2 products matching “mug”." in by_text
    assert _titles(drafts) == ["Stoneware cup"]
    assert _titles(in_plates) == ["Dinner plate"]
    assert _titles(by_sku) == ["Dinner plate"]


@pytest.mark.story("US-17")
def test_the_list_sorts_by_title_newest_and_price(app: Flask, staff_user: User, signed_in) -> None:
    category = CategoryFactory()
    cheap = ProductFactory(
        title="Banana", category_id=category.id, variants=[{"sku": "B", "price": 100}]
    )
    dear = ProductFactory(
        title="Apple", category_id=category.id, variants=[{"sku": "A", "price": 900}]
    )
    middle = ProductFactory(
        title="Cherry", category_id=category.id, variants=[{"sku": "C", "price": 500}]
    )
    for age, product in enumerate([dear, cheap, middle]):
        db.session.execute(
            sa.update(Product)
            .where(Product.id == product.id)
            .values(created_at=utcnow() - timedelta(days=age))
        )
    db.session.commit()
    browser = signed_in(staff_user)

    assert _titles(browser.get("/staff/products?sort=title").text) == ["Apple", "Banana", "Cherry"]
    assert _titles(browser.get("/staff/products?sort=price").text) == ["Banana", "Cherry", "Apple"]
    assert _titles(browser.get("/staff/products?sort=newest").text) == ["Apple", "Banana", "Cherry"]
    assert _titles(browser.get("/staff/products").text) == ["Apple", "Banana", "Cherry"]


@pytest.mark.story("US-17")
def test_the_list_shows_fifty_a_page(app: Flask, staff_user: User, signed_in) -> None:
    category = CategoryFactory()
    for number in range(51):
        ProductFactory(title=f"Item {number:02d}", category_id=category.id)
    browser = signed_in(staff_user)

    first = browser.get("/staff/products?sort=title").text
    second = browser.get("/staff/products?sort=title&page=2").text

    assert len(_titles(first)) == 50
    assert _titles(second) == ["Item 50"]
    assert "Page 1 of 2" in first
    assert 'href="/staff/products?page=2&amp;sort=title"' in first


@pytest.mark.story("US-17")
@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("status=lost", 422),
        ("sort=cheapest", 422),
        ("category=abc", 422),
        ("category=999999", 422),
        ("page=-1", 400),
    ],
)
def test_bad_list_input_is_a_clear_4xx(
    app: Flask, staff_user: User, signed_in, query: str, status: int
) -> None:
    assert signed_in(staff_user).get(f"/staff/products?{query}").status_code == status


# -- bulk edits ----------------------------------------------------------------------------


def _statuses(*products: Product) -> list[str]:
    return [_product(product.id).status.value for product in products]


@pytest.mark.story("US-17")
def test_staff_publish_and_archive_the_selected_products(
    app: Flask, staff_user: User, signed_in
) -> None:
    first = ProductFactory(title="First", status=ProductStatus.DRAFT)
    second = ProductFactory(title="Second", status=ProductStatus.DRAFT)
    other = ProductFactory(title="Other", status=ProductStatus.DRAFT)
    browser = signed_in(staff_user)

    published = browser.post(
        "/staff/products/bulk?status=draft",
        data={"action": "publish", "product_ids": [str(first.id), str(second.id)]},
    )
    after_publish = _statuses(first, second, other)
    archived = browser.post(
        "/staff/products/bulk", data={"action": "archive", "product_ids": [str(first.id)]}
    )

    assert published.status_code == 303
    assert published.headers["Location"] == "/staff/products?status=draft"
    assert after_publish == ["active", "active", "draft"]
    assert archived.status_code == 303
    assert _statuses(first, second, other) == ["archived", "active", "draft"]
    assert "1 product archived." in browser.get("/staff/products").text


@pytest.mark.story("US-17")
def test_publishing_a_selection_with_a_product_without_variants_changes_nothing(
    app: Flask, staff_user: User, signed_in
) -> None:
    ready = ProductFactory(title="Ready", status=ProductStatus.DRAFT)
    empty = ProductFactory(title="Empty box", status=ProductStatus.DRAFT, variants=[])
    before = catalogue_state()

    response = signed_in(staff_user).post(
        "/staff/products/bulk",
        data={"action": "publish", "product_ids": [str(ready.id), str(empty.id)]},
    )

    assert response.status_code == 422
    assert "Nothing was published: Empty box has no variant yet." in response.text
    assert catalogue_state() == before


@pytest.mark.story("US-17")
def test_staff_move_the_selected_products_to_a_category(
    app: Flask, staff_user: User, signed_in
) -> None:
    target = CategoryFactory(name="Sale")
    first = ProductFactory(title="First")
    second = ProductFactory(title="Second")
    browser = signed_in(staff_user)

    response = browser.post(
        "/staff/products/bulk",
        data={
            "action": "move",
            "category_id": str(target.id),
            "product_ids": [str(first.id), str(second.id)],
        },
    )

    assert response.status_code == 303
    assert [_product(first.id).category_id, _product(second.id).category_id] == [
        target.id,
        target.id,
    ]
    assert "2 products moved." in browser.get("/staff/products").text


@pytest.mark.story("US-17")
@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"action": "publish"}, "Select at least one product."),
        ({"action": "move", "product_ids": "{id}"}, "Choose the category to move them to."),
        (
            {"action": "melt", "product_ids": "{id}"},
            "Choose publish, archive or move to a category.",
        ),
        ({"action": "move", "product_ids": "{id}", "category_id": "999999"}, "Category not found"),
    ],
)
def test_a_bad_bulk_edit_is_refused_and_changes_nothing(
    app: Flask, staff_user: User, signed_in, form: dict[str, str], message: str
) -> None:
    product = ProductFactory(title="Mug", status=ProductStatus.DRAFT)
    data = {name: value.format(id=product.id) for name, value in form.items()}
    before = catalogue_state()

    response = signed_in(staff_user).post("/staff/products/bulk", data=data)

    assert response.status_code == 422
    assert message in response.text
    assert catalogue_state() == before


@pytest.mark.story("US-17")
def test_a_bulk_edit_of_a_product_gone_is_404_and_changes_nothing(
    app: Flask, staff_user: User, signed_in
) -> None:
    product = ProductFactory(title="Mug", status=ProductStatus.DRAFT)
    before = catalogue_state()

    response = signed_in(staff_user).post(
        "/staff/products/bulk",
        data={"action": "publish", "product_ids": [str(product.id), "999999"]},
    )

    assert response.status_code == 404
    assert "1 of the selected products no longer exists." in response.text
    assert catalogue_state() == before
