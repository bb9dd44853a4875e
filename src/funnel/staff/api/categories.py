"""Staff category operations (permission ``catalog.manage``): the tree, create, change
(rename, describe, move to another parent), reorder among siblings, delete.

Each calls the catalogue service the staff pages call, which checks the rules and writes the
audit log, so that the pages and the API cannot disagree.
"""

from __future__ import annotations

from typing import Any

from funnel.accounts.permissions import Permission
from funnel.catalog import queries
from funnel.catalog import services as catalog
from funnel.catalog.errors import CategoryNotFound
from funnel.catalog.tree import CategoryNode
from funnel.core.api import errors, links
from funnel.staff.api import bp
from funnel.staff.api.access import staff_caller, staff_permission
from funnel.staff.api.schemas.categories import (
    CategoryInputSchema,
    CategoryPatchSchema,
    StaffCategoryMoveSchema,
    StaffCategorySchema,
    StaffCategoryTreeSchema,
    StaffMoveInputSchema,
)

MANAGE = Permission.CATALOG_MANAGE
CATEGORY_ID = "<id:category_id>"
CATEGORY_OF_BODY = {"category_id": "$response.body#/id"}


@bp.route("/categories", methods=["GET"])
@bp.response(200, StaffCategoryTreeSchema)
@staff_permission(bp, MANAGE)
def list_staff_categories() -> dict[str, Any]:
    """Every category, as a flat list in tree order

    Each parent comes before its children and siblings are in their display order, so the
    list can be shown as it is (indent by `depth`) or rebuilt into a tree from `parent_id`.
    Needs `catalog.manage`.
    """
    tree = queries.category_tree()
    return {"items": [_representation(category, depth) for category, depth in tree.indented()]}


@bp.route("/categories", methods=["POST"])
@bp.response(201, StaffCategorySchema)
@links(
    bp,
    201,
    update_staff_category=CATEGORY_OF_BODY,
    move_staff_category=CATEGORY_OF_BODY,
    delete_staff_category=CATEGORY_OF_BODY,
)
@errors(bp, 400, 404, 409, 413, 422)
@staff_permission(bp, MANAGE)
@bp.arguments(CategoryInputSchema)
def create_staff_category(data: dict[str, Any]) -> dict[str, Any]:
    """Create a category, after its siblings

    The slug is made from the name (`-2`, `-3`... when taken). A blank or too long name is
    422 naming `name`; an unknown `parent_id` is 404 `category_not_found`.
    Needs `catalog.manage`.
    """
    created = catalog.create_category(
        data["name"],
        parent_id=data["parent_id"],
        description=data["description"],
        position=None,
        actor_user_id=staff_caller().id,
    )
    return _one(created.id)


@bp.route(f"/categories/{CATEGORY_ID}", methods=["PATCH"])
@bp.response(200, StaffCategorySchema)
@errors(bp, 400, 404, 409, 413, 422)
@staff_permission(bp, MANAGE)
@bp.arguments(CategoryPatchSchema)
def update_staff_category(data: dict[str, Any], category_id: int) -> dict[str, Any]:
    """Rename, describe or move a category to another parent

    Only the fields sent change. A new name gives a new slug. `parent_id` null moves it to
    the top level; moved, it goes after its new siblings. Moving it under itself or one of
    its subcategories is 422 `category_cycle` naming `parent_id`; an unknown parent is 404
    `category_not_found`. Needs `catalog.manage`.
    """
    changes: dict[str, Any] = {
        "name": data.get("name"),
        "description": data.get("description"),
    }
    if "parent_id" in data:
        changes["parent_id"] = data["parent_id"]
    catalog.update_category(category_id, **changes, actor_user_id=staff_caller().id)
    return _one(category_id)


@bp.route(f"/categories/{CATEGORY_ID}/move", methods=["POST"])
@bp.response(200, StaffCategoryMoveSchema)
@errors(bp, 400, 404, 413, 422)
@staff_permission(bp, MANAGE)
@bp.arguments(StaffMoveInputSchema)
def move_staff_category(data: dict[str, Any], category_id: int) -> dict[str, Any]:
    """Move a category one place up or down among its siblings

    `moved` is false, and nothing changes, when it is already first (up) or last (down).
    A direction other than `up` or `down` is 422 naming `direction`. Needs `catalog.manage`.
    """
    moved = catalog.reorder_category(
        category_id, data["direction"], actor_user_id=staff_caller().id
    )
    return {"moved": moved, "category": _one(category_id)}


@bp.route(f"/categories/{CATEGORY_ID}", methods=["DELETE"])
@bp.response(204)
@errors(bp, 404, 409)
@staff_permission(bp, MANAGE)
def delete_staff_category(category_id: int) -> None:
    """Delete an empty category

    A category that still holds products or subcategories is 409 `category_not_empty`, whose
    `detail` says what it holds; nothing is deleted. Needs `catalog.manage`.
    """
    catalog.delete_category(category_id, actor_user_id=staff_caller().id)


def _one(category_id: int) -> dict[str, Any]:
    tree = queries.category_tree()
    category = tree.by_id.get(category_id)
    if category is None:
        raise CategoryNotFound()
    return _representation(category, len(tree.ancestors(category)))


def _representation(category: CategoryNode, depth: int) -> dict[str, Any]:
    return {
        "id": category.id,
        "name": category.name,
        "slug": category.slug,
        "parent_id": category.parent_id,
        "description": category.description,
        "position": category.position,
        "depth": depth,
    }
