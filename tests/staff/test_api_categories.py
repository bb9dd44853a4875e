"""Staff API: categories (catalog.manage) through the catalogue services the staff pages call:
the tree, create, rename, describe, move to another parent, reorder, delete only when empty;
each change written to the audit log as on the pages, a refused one changing nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from funnel.accounts.models import Role, User
from funnel.catalog.models import Category
from funnel.extensions import db
from tests.audit.helpers import count, entries
from tests.factories.accounts import UserFactory
from tests.factories.catalog import CategoryFactory, ProductFactory
from tests.support.api import problem
from tests.support.api_staff import STAFF, Bearer
from tests.support.staff_pages import category_state

pytestmark = pytest.mark.story("US-17")

CATEGORIES = f"{STAFF}/categories"
# Who calls: no token, a customer, staff without the Catalogue group, staff with it, an admin.
CALLERS = {
    "anonymous": None,
    "customer": (Role.CUSTOMER, None),
    "staff_without_catalogue": (Role.STAFF, "orders,stock,customers"),
    "staff_with_catalogue": (Role.STAFF, "catalogue"),
    "admin": (Role.ADMIN, None),
}


def headers_of(caller: str, bearer: Bearer) -> dict[str, str]:
    if CALLERS[caller] is None:
        return {}
    role, groups = CALLERS[caller]
    return bearer(UserFactory(email=f"{caller}@example.com", role=role, permission_groups=groups))


def _calls(first: Category, second: Category) -> dict[str, tuple[str, str, Any, int]]:
    """Each category operation: method, path, body, and its success status."""
    return {
        "list": ("GET", CATEGORIES, None, 200),
        "create": ("POST", CATEGORIES, {"name": "Boots", "parent_id": first.id}, 201),
        "update": ("PATCH", f"{CATEGORIES}/{second.id}", {"name": "Rain boots"}, 200),
        "move": ("POST", f"{CATEGORIES}/{second.id}/move", {"direction": "up"}, 200),
        "delete": ("DELETE", f"{CATEGORIES}/{second.id}", None, 204),
    }


@pytest.mark.story("US-28")
@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("operation", ["list", "create", "update", "move", "delete"])
def test_category_operations_need_the_catalogue_permission(
    client: FlaskClient, bearer: Bearer, caller: str, operation: str
) -> None:
    # given two top-level categories, and a caller
    first = CategoryFactory(name="Kitchen", position=0)
    second = CategoryFactory(name="Garden", position=1)
    method, path, body, success = _calls(first, second)[operation]
    headers = headers_of(caller, bearer)
    before = category_state()

    # when the caller calls the operation
    response = client.open(path, method=method, json=body, headers=headers)

    # then anonymous callers get 401, customers and staff without the group 403, and nothing
    # changes nor is logged; staff with the Catalogue group and admins pass
    if caller == "anonymous":
        problem(response, 401, "authentication_required")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    elif caller in {"customer", "staff_without_catalogue"}:
        problem(response, 403, "permission_denied")
    else:
        assert response.status_code == success, response.get_data(as_text=True)
    if caller in {"anonymous", "customer", "staff_without_catalogue"}:
        assert category_state() == before
        assert count() == 0
    elif operation != "list":
        assert category_state() != before
        assert count() == 1


def test_the_tree_is_a_flat_list_in_tree_order_with_parents_positions_and_depths(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    # given two top-level categories in an order other than their ids', one with two children
    garden = CategoryFactory(name="Garden", position=1)
    kitchen = CategoryFactory(name="Kitchen", position=0, description="Pots and pans")
    pans = CategoryFactory(name="Pans", parent_id=kitchen.id, position=1)
    mugs = CategoryFactory(name="Mugs", parent_id=kitchen.id, position=0)

    # when staff read the tree
    response = client.get(CATEGORIES, headers=bearer(staff_user))

    # then each parent comes before its children, siblings by position
    assert response.status_code == 200
    assert response.get_json()["items"] == [
        {
            "id": kitchen.id,
            "name": "Kitchen",
            "slug": "kitchen",
            "parent_id": None,
            "description": "Pots and pans",
            "position": 0,
            "depth": 0,
        },
        {
            "id": mugs.id,
            "name": "Mugs",
            "slug": "mugs",
            "parent_id": kitchen.id,
            "description": "",
            "position": 0,
            "depth": 1,
        },
        {
            "id": pans.id,
            "name": "Pans",
            "slug": "pans",
            "parent_id": kitchen.id,
            "description": "",
            "position": 1,
            "depth": 1,
        },
        {
            "id": garden.id,
            "name": "Garden",
            "slug": "garden",
            "parent_id": None,
            "description": "",
            "position": 1,
            "depth": 0,
        },
    ]


def test_staff_create_a_subcategory_after_its_siblings_and_it_is_logged(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    # given a category with a child, and a category already called Mugs elsewhere
    kitchen = CategoryFactory(name="Kitchen")
    CategoryFactory(name="Pans", parent_id=kitchen.id, position=4)
    CategoryFactory(name="Mugs")

    # when staff create another Mugs under Kitchen
    response = client.post(
        CATEGORIES,
        json={"name": "  Mugs ", "parent_id": kitchen.id, "description": "For tea."},
        headers=bearer(staff_user),
    )

    # then it is created after its siblings, with the next free slug, and logged
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body == {
        "id": body["id"],
        "name": "Mugs",
        "slug": "mugs-2",
        "parent_id": kitchen.id,
        "description": "For tea.",
        "position": 5,
        "depth": 1,
    }
    stored = db.session.get(Category, body["id"])
    assert (stored.name, stored.parent_id, stored.position) == ("Mugs", kitchen.id, 5)
    assert entries() == [
        {
            "action": "category.created",
            "actor": staff_user.id,
            "address": "127.0.0.1",
            "object": ("category", str(body["id"])),
            "label": "Mugs",
            "before": None,
            "after": {
                "name": "Mugs",
                "slug": "mugs-2",
                "parent_id": kitchen.id,
                "description": "For tea.",
                "position": 5,
            },
        }
    ]


@pytest.mark.story("US-44")
@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "   "}, "name", "This field is required."),
        ({"name": "x" * 121}, "name", "At most 120 characters."),
        ({"name": "Mugs", "description": "x" * 10_001}, "description", "At most 10000"),
        ({}, "name", "Missing data for required field."),
        ({"name": 5}, "name", "Not a valid string."),
        ({"name": "Mugs", "parent_id": "one"}, "parent_id", "Not a valid integer."),
        ({"name": "Mugs", "parent_id": 0}, "parent_id", "greater than or equal to 1"),
        ({"name": "Mu\x00gs"}, "name", "Must not contain a NUL character."),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_creates_nothing(
    client: FlaskClient, bearer: Bearer, staff_user: User, body: dict, field: str, message: str
) -> None:
    CategoryFactory(name="Kitchen")
    before = category_state()

    response = client.post(CATEGORIES, json=body, headers=bearer(staff_user))

    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    fields = response.get_json()["fields"]
    assert list(fields) == [field]
    assert message in " ".join(fields[field])
    assert category_state() == before
    assert count() == 0


def test_an_unknown_parent_is_a_404_and_creates_nothing(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    before = category_state()

    response = client.post(
        CATEGORIES, json={"name": "Mugs", "parent_id": 999_999}, headers=bearer(staff_user)
    )

    problem(response, 404, "category_not_found")
    assert category_state() == before


def test_staff_rename_describe_and_move_a_category_to_another_parent(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    # given Kitchen with a child, and Boots at the top level
    kitchen = CategoryFactory(name="Kitchen", position=0)
    CategoryFactory(name="Pans", parent_id=kitchen.id, position=0)
    boots = CategoryFactory(name="Boots", position=1)
    headers = bearer(staff_user)

    # when staff rename and describe Boots and move it under Kitchen, then back to the top
    moved = client.patch(
        f"{CATEGORIES}/{boots.id}",
        json={"name": "Mugs", "description": "For tea.", "parent_id": kitchen.id},
        headers=headers,
    )
    back = client.patch(f"{CATEGORIES}/{boots.id}", json={"parent_id": None}, headers=headers)

    # then it is renamed with a new slug, goes after its new siblings each time, and each
    # change is logged with only the fields that changed
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert moved.get_json() == {
        "id": boots.id,
        "name": "Mugs",
        "slug": "mugs",
        "parent_id": kitchen.id,
        "description": "For tea.",
        "position": 1,
        "depth": 1,
    }
    assert back.status_code == 200
    assert (back.get_json()["parent_id"], back.get_json()["position"]) == (None, 1)
    db.session.expire_all()
    stored = db.session.get(Category, boots.id)
    assert (stored.name, stored.slug, stored.parent_id, stored.description) == (
        "Mugs",
        "mugs",
        None,
        "For tea.",
    )
    assert [(entry["action"], entry["before"], entry["after"]) for entry in entries()] == [
        (
            "category.updated",
            {"name": "Boots", "slug": "boots", "parent_id": None, "description": ""},
            {"name": "Mugs", "slug": "mugs", "parent_id": kitchen.id, "description": "For tea."},
        ),
        ("category.updated", {"parent_id": kitchen.id}, {"parent_id": None}),
    ]


@pytest.mark.story("US-44")
def test_a_category_cannot_move_under_itself_or_its_own(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    kitchen = CategoryFactory(name="Kitchen")
    mugs = CategoryFactory(name="Mugs", parent_id=kitchen.id)
    before = category_state()
    headers = bearer(staff_user)

    under_child = client.patch(
        f"{CATEGORIES}/{kitchen.id}", json={"parent_id": mugs.id}, headers=headers
    )
    under_itself = client.patch(
        f"{CATEGORIES}/{kitchen.id}", json={"parent_id": kitchen.id}, headers=headers
    )

    for response in (under_child, under_itself):
        body = problem(response, 422, "category_cycle")
        assert body["fields"] == {
            "parent_id": ["Choose a parent outside this category and its own."]
        }
    assert category_state() == before
    assert count() == 0


@pytest.mark.story("US-44")
@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "body"), ({"name": ""}, "name"), ({"slug": "x"}, "slug"), ({"position": 3}, "position")],
)
def test_a_bad_change_is_a_422_and_changes_nothing(
    client: FlaskClient, bearer: Bearer, staff_user: User, body: dict, field: str
) -> None:
    kitchen = CategoryFactory(name="Kitchen")
    before = category_state()

    response = client.patch(f"{CATEGORIES}/{kitchen.id}", json=body, headers=bearer(staff_user))

    assert response.status_code == 422, response.get_data(as_text=True)
    assert list(response.get_json()["fields"]) == [field]
    assert category_state() == before


def test_staff_reorder_siblings_up_and_down_and_an_end_changes_nothing(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    # given three siblings
    first = CategoryFactory(name="A", position=0)
    second = CategoryFactory(name="B", position=1)
    third = CategoryFactory(name="C", position=2)
    headers = bearer(staff_user)

    def names() -> list[str]:
        listed = client.get(CATEGORIES, headers=headers).get_json()["items"]
        return [category["name"] for category in listed]

    # when staff move C up, then A down, then try to move C (now first) up again
    up = client.post(f"{CATEGORIES}/{third.id}/move", json={"direction": "up"}, headers=headers)
    assert names() == ["A", "C", "B"]
    down = client.post(f"{CATEGORIES}/{first.id}/move", json={"direction": "down"}, headers=headers)
    assert names() == ["C", "A", "B"]
    logged = count()
    stuck = client.post(f"{CATEGORIES}/{third.id}/move", json={"direction": "up"}, headers=headers)

    # then each move says so and where the category now is; at the end nothing moves
    assert up.status_code == 200
    assert (up.get_json()["moved"], up.get_json()["category"]["position"]) == (True, 1)
    assert (down.get_json()["moved"], down.get_json()["category"]["position"]) == (True, 1)
    assert stuck.status_code == 200
    assert (stuck.get_json()["moved"], stuck.get_json()["category"]["position"]) == (False, 0)
    assert names() == ["C", "A", "B"]
    assert count() == logged == 2
    assert [(entry["action"], entry["object"][1]) for entry in entries()] == [
        ("category.moved", str(third.id)),
        ("category.moved", str(first.id)),
    ]
    assert second.id not in {int(entry["object"][1]) for entry in entries()}


@pytest.mark.story("US-44")
@pytest.mark.parametrize("body", [{"direction": "sideways"}, {"direction": ""}, {}])
def test_a_move_other_than_up_or_down_is_a_422_naming_the_direction(
    client: FlaskClient, bearer: Bearer, staff_user: User, body: dict
) -> None:
    CategoryFactory(name="A", position=0)
    second = CategoryFactory(name="B", position=1)
    before = category_state()

    response = client.post(f"{CATEGORIES}/{second.id}/move", json=body, headers=bearer(staff_user))

    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == ["direction"]
    assert category_state() == before


def test_staff_delete_an_empty_category_and_it_is_logged(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    boots_id = CategoryFactory(name="Boots", description="Wellies").id

    response = client.delete(f"{CATEGORIES}/{boots_id}", headers=bearer(staff_user))

    assert response.status_code == 204
    assert response.get_data() == b""
    assert category_state() == []
    assert entries() == [
        {
            "action": "category.deleted",
            "actor": staff_user.id,
            "address": "127.0.0.1",
            "object": ("category", str(boots_id)),
            "label": "Boots",
            "before": {
                "name": "Boots",
                "slug": "boots",
                "parent_id": None,
                "description": "Wellies",
                "position": 0,
            },
            "after": None,
        }
    ]


def test_a_category_holding_products_or_subcategories_is_a_409_and_stays(
    client: FlaskClient, bearer: Bearer, staff_user: User
) -> None:
    # given Kitchen holding a product and a subcategory
    kitchen = CategoryFactory(name="Kitchen")
    CategoryFactory(name="Mugs", parent_id=kitchen.id)
    ProductFactory(category_id=kitchen.id)
    before = category_state()

    # when staff delete it
    response = client.delete(f"{CATEGORIES}/{kitchen.id}", headers=bearer(staff_user))

    # then it is refused with what it still holds, and nothing is deleted nor logged
    body = problem(response, 409, "category_not_empty")
    assert body["detail"] == (
        "Kitchen still holds 1 product and 1 subcategory: move or delete them first."
    )
    assert category_state() == before
    assert count() == 0


@pytest.mark.parametrize("category_id", ["999999", "2147483647", "2147483648", "0", "x"])
def test_an_unknown_category_is_a_404_for_every_operation(
    client: FlaskClient, bearer: Bearer, staff_user: User, category_id: str
) -> None:
    CategoryFactory(name="Kitchen")
    before = category_state()
    headers = bearer(staff_user)
    path = f"{CATEGORIES}/{category_id}"

    responses = [
        client.patch(path, json={"name": "Renamed"}, headers=headers),
        client.post(f"{path}/move", json={"direction": "up"}, headers=headers),
        client.delete(path, headers=headers),
    ]

    for response in responses:
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
    if category_id == "999999":
        assert {response.get_json()["code"] for response in responses} == {"category_not_found"}
    assert category_state() == before
