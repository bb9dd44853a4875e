"""Catalogue services used by staff: the permission check, reordering, bulk edits (US-17)."""

from __future__ import annotations

import pytest
from flask import Flask

from funnel.accounts.models import User
from funnel.catalog import services
from funnel.catalog.errors import CategoryCycle, ProductHasNoVariants
from funnel.catalog.models import Category, ProductStatus, Variant
from funnel.core.errors import PermissionDenied
from funnel.core.money import Money
from funnel.extensions import db
from tests.factories.catalog import CategoryFactory, ProductFactory
from tests.support.api_staff import catalogue_state
from tests.support.staff_pages import category_state


def _names_in_order(parent_id: int | None = None) -> list[str]:
    rows = db.session.scalars(
        db.select(Category)
        .where(
            Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id
        )
        .order_by(Category.position, Category.name, Category.id)
        .execution_options(populate_existing=True)
    )
    return [row.name for row in rows]


@pytest.mark.story("US-17")
def test_every_staff_write_refuses_an_actor_without_the_permission(
    app: Flask, customer: User, staff_user: User
) -> None:
    # given a category, a product with a variant, and a customer calling the services directly
    category = CategoryFactory(name="Shoes")
    product = ProductFactory(title="Boot", category_id=category.id, status=ProductStatus.DRAFT)
    variant_id = db.session.scalars(
        db.select(Variant.id).where(Variant.product_id == product.id)
    ).one()
    calls = [
        lambda actor: services.create_category("Hats", actor_user_id=actor),
        lambda actor: services.update_category(category.id, name="X", actor_user_id=actor),
        lambda actor: services.reorder_category(category.id, "up", actor_user_id=actor),
        lambda actor: services.delete_category(category.id, actor_user_id=actor),
        lambda actor: services.create_product("Hat", category_id=category.id, actor_user_id=actor),
        lambda actor: services.update_product(product.id, title="X", actor_user_id=actor),
        lambda actor: services.publish_product(product.id, actor_user_id=actor),
        lambda actor: services.archive_product(product.id, actor_user_id=actor),
        lambda actor: services.add_variant(
            product.id, sku="NEW-1", price=Money(100, "USD"), actor_user_id=actor
        ),
        lambda actor: services.update_variant(variant_id, title="X", actor_user_id=actor),
        lambda actor: services.edit_products([product.id], "archive", actor_user_id=actor),
    ]
    before = (catalogue_state(), category_state())

    # when each is called as the customer, and as an account that does not exist
    refusals = 0
    for call in calls:
        for actor in (customer.id, 999_999):
            with pytest.raises(PermissionDenied):
                call(actor)
            refusals += 1

    # then every call is refused and nothing changed; a staff member may
    assert refusals == 22
    assert (catalogue_state(), category_state()) == before
    assert services.create_category("Hats", actor_user_id=staff_user.id).name == "Hats"


@pytest.mark.story("US-17")
def test_reordering_swaps_with_the_neighbour_and_renumbers_siblings(app: Flask) -> None:
    shoes = CategoryFactory(name="Shoes")
    for name in ("A", "B", "C"):
        CategoryFactory(name=name, parent_id=shoes.id)
    b = db.session.scalars(db.select(Category).where(Category.name == "B")).one()

    moved_up = services.reorder_category(b.id, services.Direction.UP)
    moved_up_again = services.reorder_category(b.id, "up")

    assert (moved_up, moved_up_again) == (True, False)
    assert _names_in_order(shoes.id) == ["B", "A", "C"]
    positions = db.session.scalars(
        db.select(Category.position)
        .where(Category.parent_id == shoes.id)
        .order_by(Category.position)
    ).all()
    assert positions == [0, 1, 2]


@pytest.mark.story("US-17")
def test_moving_a_category_under_its_descendant_names_the_parent_field(app: Flask) -> None:
    shoes = CategoryFactory(name="Shoes")
    boots = CategoryFactory(name="Boots", parent_id=shoes.id)
    winter = CategoryFactory(name="Winter", parent_id=boots.id)

    with pytest.raises(CategoryCycle) as refused:
        services.update_category(shoes.id, parent_id=winter.id)

    assert refused.value.fields == {
        "parent_id": ["Choose a parent outside this category and its own."]
    }


@pytest.mark.story("US-17")
def test_a_bulk_publish_is_all_or_nothing(app: Flask) -> None:
    ready = ProductFactory(title="Ready", status=ProductStatus.DRAFT)
    empty = [
        ProductFactory(title=f"Empty {n}", status=ProductStatus.DRAFT, variants=[])
        for n in range(7)
    ]
    before = catalogue_state()

    with pytest.raises(ProductHasNoVariants) as refused:
        services.edit_products([ready.id, *(product.id for product in empty)], "publish")

    assert refused.value.detail == (
        "Nothing was published: Empty 0, Empty 1, Empty 2, Empty 3, Empty 4 and 2 more "
        "have no variant yet."
    )
    assert catalogue_state() == before


@pytest.mark.story("US-17")
def test_a_bulk_edit_counts_only_the_products_it_changed(app: Flask) -> None:
    active = ProductFactory(title="Active")
    draft = ProductFactory(title="Draft", status=ProductStatus.DRAFT)

    changed = services.edit_products([active.id, draft.id, draft.id], "publish")

    assert changed == 1
