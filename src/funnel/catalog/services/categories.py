"""Category use cases."""

from __future__ import annotations

from sqlalchemy import select

from funnel.catalog.errors import (
    CategoryCycle,
    CategoryNotEmpty,
    SlugTaken,
)
from funnel.catalog.models import (
    Category,
    Product,
)
from funnel.catalog.services.rules import (
    _UNSET,
    _flush,
    _get_category,
    _optional_text,
    _required_text,
    _unique_slug,
    slugify,
)
from funnel.core.database import transaction
from funnel.extensions import db

# -- categories ----------------------------------------------------------------------------


def create_category(
    name: str, *, parent_id: int | None = None, description: str = "", position: int = 0
) -> Category:
    """Create a category; its slug comes from the name (``-2``, ``-3``... when taken).

    Raises InvalidCatalogInput (blank or too long name), CategoryNotFound (unknown parent),
    SlugTaken (a concurrent writer took the slug).
    """
    with transaction():
        name = _required_text("name", name, 120)
        if parent_id is not None:
            _get_category(parent_id)
        category = Category(
            name=name,
            slug=_unique_slug(Category, slugify(name), None),
            parent_id=parent_id,
            description=_optional_text("description", description, None),
            position=position,
        )
        db.session.add(category)
        _flush(SlugTaken, "A category with this address was created at the same time.")
        return category


def update_category(
    category_id: int,
    *,
    name: str | None = None,
    parent_id: int | None = _UNSET,
    description: str | None = None,
    position: int | None = None,
) -> Category:
    """Rename, move (``parent_id``; None for top level), describe or reorder a category.

    Renaming changes the slug too. Raises CategoryNotFound, CategoryCycle (moving a category
    under itself or one of its descendants), InvalidCatalogInput, SlugTaken.
    """
    with transaction():
        category = _get_category(category_id)
        if name is not None:
            category.name = _required_text("name", name, 120)
            category.slug = _unique_slug(Category, slugify(category.name), category.id)
        if parent_id is not _UNSET:
            if parent_id is not None:
                _get_category(parent_id)
                ancestor_id: int | None = parent_id
                parents = dict(db.session.execute(select(Category.id, Category.parent_id)).all())
                while ancestor_id is not None:
                    if ancestor_id == category.id:
                        raise CategoryCycle()
                    ancestor_id = parents.get(ancestor_id)
            category.parent_id = parent_id
        if description is not None:
            category.description = _optional_text("description", description, None)
        if position is not None:
            category.position = position
        _flush(SlugTaken, "A category with this address was created at the same time.")
        return category


def delete_category(category_id: int) -> None:
    """Delete an empty category. Raises CategoryNotFound, CategoryNotEmpty."""
    with transaction():
        category = _get_category(category_id)
        has_children = db.session.scalar(
            select(Category.id).where(Category.parent_id == category.id).limit(1)
        )
        has_products = db.session.scalar(
            select(Product.id).where(Product.category_id == category.id).limit(1)
        )
        if has_children is not None or has_products is not None:
            raise CategoryNotEmpty()
        db.session.delete(category)
