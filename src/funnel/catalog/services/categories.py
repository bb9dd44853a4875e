"""Category use cases: create, change (rename, describe, move), reorder among siblings, delete."""

from __future__ import annotations

import enum

from sqlalchemy import func, select

from funnel.catalog.errors import (
    CategoryCycle,
    CategoryNotEmpty,
    InvalidCatalogInput,
    SlugTaken,
)
from funnel.catalog.models import (
    Category,
    Product,
)
from funnel.catalog.services.auditing import (
    category_fields,
    record_changed,
    record_created,
    record_deleted,
)
from funnel.catalog.services.rules import (
    _UNSET,
    CATEGORY_DESCRIPTION_LENGTH,
    CATEGORY_NAME_LENGTH,
    _flush,
    _get_category,
    _optional_text,
    _required_text,
    _unique_slug,
    check_may_manage_catalog,
    slugify,
)
from funnel.core.database import transaction
from funnel.extensions import db

# -- categories ----------------------------------------------------------------------------


class Direction(enum.StrEnum):
    """Where a category, or a product's image, moves among its siblings: one place."""

    UP = "up"
    DOWN = "down"


def parse_direction(direction: Direction | str) -> Direction:
    """``up`` or ``down``. Raises InvalidCatalogInput naming ``direction`` for anything else."""
    try:
        return Direction(direction)
    except ValueError:
        raise InvalidCatalogInput(fields={"direction": ["Choose up or down."]}) from None


def create_category(
    name: str,
    *,
    parent_id: int | None = None,
    description: str = "",
    position: int | None = 0,
    actor_user_id: int | None = None,
) -> Category:
    """Create a category; its slug comes from the name (``-2``, ``-3``... when taken).

    ``position`` None places it after its siblings. ``actor_user_id`` is the staff member
    acting (None: the system). Raises PermissionDenied, InvalidCatalogInput (blank or too long
    name), CategoryNotFound (unknown parent), SlugTaken (a concurrent writer took the slug).
    """
    with transaction():
        check_may_manage_catalog(actor_user_id)
        name = _required_text("name", name, CATEGORY_NAME_LENGTH)
        if parent_id is not None:
            _get_category(parent_id)
        category = Category(
            name=name,
            slug=_unique_slug(Category, slugify(name), None),
            parent_id=parent_id,
            description=_optional_text("description", description, CATEGORY_DESCRIPTION_LENGTH),
            position=_next_position(parent_id) if position is None else position,
        )
        db.session.add(category)
        _flush(SlugTaken, "A category with this address was created at the same time.")
        record_created(
            "category", category.id, category.name, category_fields(category), actor_user_id
        )
        return category


def update_category(
    category_id: int,
    *,
    name: str | None = None,
    parent_id: int | None = _UNSET,
    description: str | None = None,
    position: int | None = None,
    actor_user_id: int | None = None,
) -> Category:
    """Rename, move (``parent_id``; None for top level), describe or reorder a category.

    Renaming changes the slug too. Moved to another parent without a ``position``, it goes
    after its new siblings. ``actor_user_id`` is the staff member acting (None: the system).
    Raises PermissionDenied, CategoryNotFound, CategoryCycle (moving a category under itself
    or one of its descendants), InvalidCatalogInput, SlugTaken.
    """
    with transaction():
        check_may_manage_catalog(actor_user_id)
        category = _get_category(category_id)
        before = category_fields(category)
        if name is not None:
            category.name = _required_text("name", name, CATEGORY_NAME_LENGTH)
            category.slug = _unique_slug(Category, slugify(category.name), category.id)
        if parent_id is not _UNSET and parent_id != category.parent_id:
            if parent_id is not None:
                _get_category(parent_id)
                _refuse_cycle(category, parent_id)
            category.parent_id = parent_id
            if position is None:
                category.position = _next_position(parent_id, excluding=category.id)
        if description is not None:
            category.description = _optional_text(
                "description", description, CATEGORY_DESCRIPTION_LENGTH
            )
        if position is not None:
            category.position = position
        _flush(SlugTaken, "A category with this address was created at the same time.")
        record_changed(
            "category",
            category.id,
            category.name,
            before,
            category_fields(category),
            actor_user_id,
        )
        return category


def _refuse_cycle(category: Category, parent_id: int) -> None:
    ancestor_id: int | None = parent_id
    parents = dict(db.session.execute(select(Category.id, Category.parent_id)).all())
    seen: set[int] = set()
    while ancestor_id is not None and ancestor_id not in seen:
        if ancestor_id == category.id:
            raise CategoryCycle(
                fields={"parent_id": ["Choose a parent outside this category and its own."]}
            )
        seen.add(ancestor_id)
        ancestor_id = parents.get(ancestor_id)


def _next_position(parent_id: int | None, excluding: int | None = None) -> int:
    """One more than the highest position among the children of ``parent_id``."""
    statement = select(func.max(Category.position)).where(
        Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id
    )
    if excluding is not None:
        statement = statement.where(Category.id != excluding)
    highest = db.session.scalar(statement)
    return 0 if highest is None else highest + 1


def reorder_category(
    category_id: int, direction: Direction | str, *, actor_user_id: int | None = None
) -> bool:
    """Swap a category with the sibling before (``up``) or after (``down``) it.

    Siblings are in display order (position, then name); they are numbered 0, 1, 2... again,
    so that equal positions (the demo data's) move too. Returns False, changing nothing, when
    the category is already first (up) or last (down). Raises PermissionDenied,
    CategoryNotFound, InvalidCatalogInput (an unknown direction).
    """
    with transaction():
        check_may_manage_catalog(actor_user_id)
        direction = parse_direction(direction)
        category = _get_category(category_id)
        siblings = list(
            db.session.scalars(
                select(Category)
                .where(
                    Category.parent_id.is_(None)
                    if category.parent_id is None
                    else Category.parent_id == category.parent_id
                )
                .order_by(Category.position, Category.name, Category.id)
                .with_for_update()
            )
        )
        index = siblings.index(category)
        other = index - 1 if direction is Direction.UP else index + 1
        if not 0 <= other < len(siblings):
            return False
        before = category_fields(category)
        siblings[index], siblings[other] = siblings[other], siblings[index]
        for position, sibling in enumerate(siblings):
            sibling.position = position
        record_changed(
            "category",
            category.id,
            category.name,
            before,
            category_fields(category),
            actor_user_id,
            action="moved",
        )
        return True


def delete_category(category_id: int, *, actor_user_id: int | None = None) -> None:
    """Delete an empty category (no products, no subcategories).

    Raises PermissionDenied, CategoryNotFound, CategoryNotEmpty (saying what it still holds).
    """
    with transaction():
        check_may_manage_catalog(actor_user_id)
        category = _get_category(category_id)
        children = db.session.scalar(
            select(func.count(Category.id)).where(Category.parent_id == category.id)
        )
        products = db.session.scalar(
            select(func.count(Product.id)).where(Product.category_id == category.id)
        )
        if children or products:
            held = [
                _count(products or 0, "product", "products"),
                _count(children or 0, "subcategory", "subcategories"),
            ]
            raise CategoryNotEmpty(
                f"{category.name} still holds {' and '.join(text for text in held if text)}: "
                "move or delete them first."
            )
        record_deleted(
            "category", category.id, category.name, category_fields(category), actor_user_id
        )
        db.session.delete(category)


def _count(number: int, one: str, many: str) -> str:
    if not number:
        return ""
    return f"{number} {one if number == 1 else many}"
