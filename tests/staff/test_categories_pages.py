"""Staff category pages (US-17): the tree, create, edit and move, reorder, delete."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel.accounts.models import User
from funnel.catalog.models import Category
from funnel.extensions import db
from tests.factories.catalog import CategoryFactory, ProductFactory
from tests.support.staff_pages import PAGE_ROLES, browser_for, category_state, field_error


def _tree_rows(page: str) -> list[tuple[str, str]]:
    """(depth class, name) of each row of the category table, in order."""
    return [
        (depth, html.unescape(name))
        for depth, name in re.findall(
            r'<td class="tree-depth-(\w+)"><a href="/staff/categories/\d+">([^<]+)</a>', page
        )
    ]


def _requests(category: Category) -> dict[str, tuple[str, str, dict[str, str], int]]:
    """Each category route: method, path, form, and its status on success."""
    return {
        "tree": ("GET", "/staff/categories", {}, 200),
        "create": ("POST", "/staff/categories", {"name": "Hats", "parent_id": ""}, 303),
        "edit_page": ("GET", f"/staff/categories/{category.id}", {}, 200),
        "edit": (
            "POST",
            f"/staff/categories/{category.id}",
            {"name": "Renamed", "parent_id": ""},
            303,
        ),
        "up": ("POST", f"/staff/categories/{category.id}/up", {}, 303),
        "down": ("POST", f"/staff/categories/{category.id}/down", {}, 303),
        "delete": ("POST", f"/staff/categories/{category.id}/delete", {}, 303),
    }


@pytest.mark.story("US-17")
@pytest.mark.parametrize("role", PAGE_ROLES)
@pytest.mark.parametrize("route", ["tree", "create", "edit_page", "edit", "up", "down", "delete"])
def test_category_pages_need_the_catalogue_permission(
    app: Flask,
    client: FlaskClient,
    signed_in,
    monkeypatch: pytest.MonkeyPatch,
    role: str,
    route: str,
) -> None:
    # given two top-level categories and a browser of ``role``
    CategoryFactory(name="Alpha", position=0)
    category = CategoryFactory(name="Beta", position=1)
    method, path, form, success = _requests(category)[route]
    browser = browser_for(role, client, signed_in, monkeypatch)
    before = category_state()

    # when it opens the page or sends the form
    response = browser.open(path, method=method, data=form)

    # then visitors sign in first, customers and staff without catalog.manage get 403 and
    # nothing changes; staff and admins pass
    if role == "anonymous":
        assert response.status_code == 302
        assert response.headers["Location"].startswith(
            "/account/sign-in?next=%2Fstaff%2Fcategories"
        )
    elif role == "customer":
        assert response.status_code == 403
        assert "This page is for shop staff only." in response.text
    elif role == "staff_without_catalogue":
        assert response.status_code == 403
        assert "This page needs the catalog.manage permission." in response.text
    else:
        assert response.status_code == success, response.text
    if role in {"anonymous", "customer", "staff_without_catalogue"}:
        assert category_state() == before


@pytest.mark.story("US-17")
def test_the_tree_is_indented_in_display_order(app: Flask, staff_user: User, signed_in) -> None:
    clothes = CategoryFactory(name="Clothes", position=1)
    shoes = CategoryFactory(name="Shoes", position=0)
    CategoryFactory(name="Trainers", parent_id=shoes.id, position=1)
    boots = CategoryFactory(name="Boots", parent_id=shoes.id, position=0)
    CategoryFactory(name="Winter boots", parent_id=boots.id)
    CategoryFactory(name="Shirts", parent_id=clothes.id)

    page = signed_in(staff_user).get("/staff/categories").text

    assert _tree_rows(page) == [
        ("0", "Shoes"),
        ("1", "Boots"),
        ("2", "Winter boots"),
        ("1", "Trainers"),
        ("0", "Clothes"),
        ("1", "Shirts"),
    ]
    assert "6 categories." in page


@pytest.mark.story("US-17")
def test_staff_create_a_subcategory_after_its_siblings(
    app: Flask, staff_user: User, signed_in
) -> None:
    shoes = CategoryFactory(name="Shoes")
    CategoryFactory(name="Boots", parent_id=shoes.id, position=4)
    browser = signed_in(staff_user)

    response = browser.post(
        "/staff/categories",
        data={"name": "  Sandals ", "parent_id": str(shoes.id), "description": "For summer."},
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/categories"
    created = db.session.scalars(db.select(Category).where(Category.name == "Sandals")).one()
    assert (created.slug, created.parent_id, created.description, created.position) == (
        "sandals",
        shoes.id,
        "For summer.",
        5,
    )
    assert "Category Sandals created." in browser.get("/staff/categories").text


@pytest.mark.story("US-17")
@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"name": "  ", "parent_id": ""}, "name", "This field is required."),
        ({"name": "x" * 121, "parent_id": ""}, "name", "At most 120 characters."),
        ({"name": "Hats", "parent_id": "999999"}, "parent_id", "Not a valid choice."),
    ],
)
def test_a_bad_new_category_is_shown_again_and_creates_nothing(
    app: Flask, staff_user: User, signed_in, form: dict[str, str], field: str, message: str
) -> None:
    CategoryFactory(name="Shoes")
    before = category_state()

    response = signed_in(staff_user).post("/staff/categories", data=form)

    assert response.status_code == 422
    assert field_error(response.text, field) == message
    assert category_state() == before


@pytest.mark.story("US-17")
def test_staff_rename_describe_and_move_a_category(app: Flask, staff_user: User, signed_in) -> None:
    shoes = CategoryFactory(name="Shoes")
    clothes = CategoryFactory(name="Clothes")
    CategoryFactory(name="Shirts", parent_id=clothes.id, position=2)
    boots = CategoryFactory(name="Boots", parent_id=shoes.id)
    browser = signed_in(staff_user)

    response = browser.post(
        f"/staff/categories/{boots.id}",
        data={"name": "Rain boots", "parent_id": str(clothes.id), "description": "Dry feet."},
    )

    assert response.status_code == 303
    moved = db.session.get(Category, boots.id)
    db.session.refresh(moved)
    assert (moved.name, moved.slug, moved.parent_id, moved.description, moved.position) == (
        "Rain boots",
        "rain-boots",
        clothes.id,
        "Dry feet.",
        3,
    )
    assert "The category has been saved." in browser.get("/staff/categories").text


@pytest.mark.story("US-17")
def test_a_category_cannot_move_under_its_own_descendant(
    app: Flask, staff_user: User, signed_in
) -> None:
    shoes = CategoryFactory(name="Shoes")
    boots = CategoryFactory(name="Boots", parent_id=shoes.id)
    browser = signed_in(staff_user)
    before = category_state()

    page = browser.get(f"/staff/categories/{shoes.id}").text
    response = browser.post(
        f"/staff/categories/{shoes.id}", data={"name": "Shoes", "parent_id": str(boots.id)}
    )

    assert f'<option value="{boots.id}"' not in page
    assert response.status_code == 422
    assert field_error(response.text, "parent_id") == "Not a valid choice."
    assert category_state() == before


@pytest.mark.story("US-17")
def test_staff_reorder_siblings_with_up_and_down(app: Flask, staff_user: User, signed_in) -> None:
    # given three siblings shown A, B, C (equal positions: by name)
    a = CategoryFactory(name="A")
    CategoryFactory(name="B")
    c = CategoryFactory(name="C")
    browser = signed_in(staff_user)

    # when C moves up, then A moves down
    up = browser.post(f"/staff/categories/{c.id}/up")
    down = browser.post(f"/staff/categories/{a.id}/down")

    # then C went before B (A, C, B), then A after C: C, A, B
    assert (up.status_code, down.status_code) == (303, 303)
    assert up.headers["Location"] == f"/staff/categories#category-{c.id}"
    page = browser.get("/staff/categories").text
    assert [name for _, name in _tree_rows(page)] == ["C", "A", "B"]
    assert "The order has been saved." in page


@pytest.mark.story("US-17")
def test_moving_the_first_up_changes_nothing(app: Flask, staff_user: User, signed_in) -> None:
    first = CategoryFactory(name="A", position=0)
    CategoryFactory(name="B", position=1)
    browser = signed_in(staff_user)
    before = category_state()

    response = browser.post(f"/staff/categories/{first.id}/up")

    assert response.status_code == 303
    assert category_state() == before
    assert "It is already first." in browser.get("/staff/categories").text


@pytest.mark.story("US-17")
def test_staff_delete_an_empty_category(app: Flask, staff_user: User, signed_in) -> None:
    keep = CategoryFactory(name="Keep")
    empty = CategoryFactory(name="Empty")
    browser = signed_in(staff_user)

    response = browser.post(f"/staff/categories/{empty.id}/delete")

    assert response.status_code == 303
    assert [row[0] for row in category_state()] == [keep.id]
    assert "The category has been deleted." in browser.get("/staff/categories").text


@pytest.mark.story("US-17")
def test_a_category_holding_products_or_subcategories_is_not_deleted(
    app: Flask, staff_user: User, signed_in
) -> None:
    shoes = CategoryFactory(name="Shoes")
    CategoryFactory(name="Boots", parent_id=shoes.id)
    ProductFactory(category_id=shoes.id)
    ProductFactory(category_id=shoes.id)
    before = category_state()

    response = signed_in(staff_user).post(f"/staff/categories/{shoes.id}/delete")

    assert response.status_code == 409
    assert (
        "Shoes still holds 2 products and 1 subcategory: move or delete them first."
        in response.text
    )
    assert category_state() == before


@pytest.mark.story("US-17")
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/staff/categories/999999"),
        ("POST", "/staff/categories/999999"),
        ("POST", "/staff/categories/999999/up"),
        ("POST", "/staff/categories/999999/delete"),
        ("GET", "/staff/categories/99999999999"),
        ("POST", "/staff/categories/1/sideways"),
    ],
)
def test_an_unknown_category_is_404(
    app: Flask, staff_user: User, signed_in, method: str, path: str
) -> None:
    CategoryFactory(name="Shoes")
    before = category_state()

    response = signed_in(staff_user).open(path, method=method, data={"name": "X"})

    assert response.status_code == 404
    assert category_state() == before
