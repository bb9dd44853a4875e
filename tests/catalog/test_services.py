"""Catalogue services: categories, products, variants, and the columns they keep in step."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from funnel.catalog import services
from funnel.catalog.errors import (
    CategoryCycle,
    CategoryNotEmpty,
    DuplicateSku,
    InvalidCatalogInput,
    InvalidPrice,
    InvalidSku,
    InvalidStock,
    ProductHasNoVariants,
)
from funnel.catalog.models import Category, Product, ProductStatus, Variant, VariantOptionValue
from funnel.core.money import Money
from funnel.extensions import db
from tests.factories.catalog import CategoryFactory, ProductFactory


def usd(amount: int) -> Money:
    return Money(amount, "USD")


def test_category_slugs_come_from_names_and_never_collide(app: Flask) -> None:
    # given a category named "Café & Bar"
    first = services.create_category("Café & Bar")

    # when two more get the same name
    second = services.create_category("Café & Bar")
    third = services.create_category("café bar")

    # then each has its own slug
    assert [first.slug, second.slug, third.slug] == ["cafe-bar", "cafe-bar-2", "cafe-bar-3"]


@pytest.mark.story("US-17")
def test_a_category_can_be_renamed_moved_and_reordered(app: Flask) -> None:
    # given two top-level categories
    shoes = CategoryFactory(name="Shoes")
    boots = CategoryFactory(name="Boot")

    # when one is renamed, moved under the other and given a position
    services.update_category(boots.id, name="Boots", parent_id=shoes.id, position=3)

    # then it has the new name, slug, parent and position
    moved = db.session.get(Category, boots.id)
    assert (moved.name, moved.slug, moved.parent_id, moved.position) == (
        "Boots",
        "boots",
        shoes.id,
        3,
    )


def test_a_category_cannot_move_under_its_own_descendant(app: Flask) -> None:
    # given a parent with a child
    parent = CategoryFactory(name="Parent")
    child = CategoryFactory(name="Child", parent_id=parent.id)

    # when the parent is moved under its child, then it is refused
    with pytest.raises(CategoryCycle) as raised:
        services.update_category(parent.id, parent_id=child.id)
    assert raised.value.code == "category_cycle"
    assert db.session.get(Category, parent.id).parent_id is None


@pytest.mark.story("US-17")
def test_a_category_holding_products_or_subcategories_cannot_be_deleted(app: Flask) -> None:
    # given a category with a subcategory, which holds a product, and an empty category
    parent = CategoryFactory(name="Parent")
    child = CategoryFactory(name="Child", parent_id=parent.id)
    ProductFactory(category_id=child.id)
    empty = CategoryFactory(name="Empty")

    # when each is deleted
    with pytest.raises(CategoryNotEmpty):
        services.delete_category(parent.id)
    with pytest.raises(CategoryNotEmpty):
        services.delete_category(child.id)
    services.delete_category(empty.id)

    # then only the empty one is gone
    names = db.session.scalars(sa.select(Category.name).order_by(Category.name)).all()
    assert names == ["Child", "Parent"]


def test_a_product_starts_as_a_draft_and_needs_a_variant_to_be_active(app: Flask) -> None:
    # given a new product without variants
    category = CategoryFactory()
    product = services.create_product("Kettle", category_id=category.id)
    assert product.status is ProductStatus.DRAFT

    # when it is published, then it is refused
    with pytest.raises(ProductHasNoVariants) as raised:
        services.publish_product(product.id)
    assert raised.value.code == "product_has_no_variants"

    # when it gets a variant, it can be published
    services.add_variant(product.id, sku="KET-1", price=usd(2500), stock_quantity=3)
    services.publish_product(product.id)
    assert db.session.get(Product, product.id).status is ProductStatus.ACTIVE


@pytest.mark.story("US-17")
def test_archiving_a_product_hides_it_for_good(app: Flask) -> None:
    product = ProductFactory()

    services.archive_product(product.id)

    assert db.session.get(Product, product.id).status is ProductStatus.ARCHIVED


def test_product_slugs_are_unique(app: Flask) -> None:
    first = ProductFactory(title="Blue Mug")
    second = ProductFactory(title="Blue mug")

    assert (first.slug, second.slug) == ("blue-mug", "blue-mug-2")


def test_the_search_document_and_lowest_price_follow_the_variants(app: Flask) -> None:
    # given a product with one variant
    product = ProductFactory(
        title="Desk lamp",
        description="Warm light.",
        variants=[{"sku": "LMP-1", "price": 3000}],
    )

    # when a cheaper variant is added and the first one changes SKU
    services.add_variant(product.id, sku="lmp-2", price=usd(2500), stock_quantity=1)
    first = db.session.scalars(sa.select(Variant).where(Variant.sku == "LMP-1")).one()
    services.update_variant(first.id, sku="LMP-1B")

    # then the product's denormalised columns say so
    stored = db.session.get(Product, product.id)
    assert stored.search_document == "Desk lamp\nWarm light.\nLMP-1B LMP-2\nLMP 1B LMP 2"
    assert (stored.min_price_amount, stored.currency) == (2500, "USD")
    assert stored.min_price == usd(2500)

    # when the title and description change, so does the search document
    services.update_product(product.id, title="Floor lamp", description="Tall.")
    updated = db.session.get(Product, product.id)
    assert updated.search_document == "Floor lamp\nTall.\nLMP-1B LMP-2\nLMP 1B LMP 2"


@pytest.mark.story("US-17")
def test_a_duplicate_sku_is_refused_with_a_stable_code(app: Flask) -> None:
    # given a variant with SKU TSH-001-M
    ProductFactory(variants=[{"sku": "TSH-001-M"}])
    other = ProductFactory(variants=[{"sku": "OTHER-1"}])

    # when another variant takes the same SKU in another letter case
    with pytest.raises(DuplicateSku) as raised:
        services.add_variant(other.id, sku=" tsh-001-m ", price=usd(100))

    # then it is refused, and nothing was added
    assert raised.value.code == "duplicate_sku"
    assert raised.value.status == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Variant)) == 2


def test_changing_a_sku_to_one_in_use_is_refused_not_a_database_error(app: Flask) -> None:
    # given two variants (schemathesis found this: the check flushed the taken SKU first)
    ProductFactory(variants=[{"sku": "TSH-001-M"}])
    other = ProductFactory(variants=[{"sku": "OTHER-1"}])
    variant_id = db.session.scalars(
        sa.select(Variant.id).where(Variant.product_id == other.id)
    ).one()

    # when the second takes the first one's SKU
    with pytest.raises(DuplicateSku) as raised:
        services.update_variant(variant_id, sku="tsh-001-m", title="Renamed")

    # then it is refused with the field named, and nothing changed
    assert raised.value.extra["fields"] == {"sku": ["This SKU is already used."]}
    db.session.rollback()
    assert db.session.get(Variant, variant_id).sku == "OTHER-1"


def test_a_sku_with_spaces_or_symbols_is_refused(app: Flask) -> None:
    product = ProductFactory()

    with pytest.raises(InvalidSku):
        services.add_variant(product.id, sku="TSH 001", price=usd(100))
    with pytest.raises(InvalidSku):
        services.add_variant(product.id, sku="", price=usd(100))


@pytest.mark.story("US-17")
def test_prices_typed_as_decimals_are_stored_as_exact_minor_units(app: Flask) -> None:
    assert services.parse_price("12.50") == usd(1250)
    assert services.parse_price(" 0.10 ") == usd(10)
    assert services.parse_price("19.99") == usd(1999)


@pytest.mark.story("US-17")
@pytest.mark.parametrize("text", ["-1.00", "12.505", "abc", "", "NaN", "Infinity"])
def test_negative_or_too_precise_prices_are_refused(app: Flask, text: str) -> None:
    with pytest.raises(InvalidPrice) as raised:
        services.parse_price(text)
    assert raised.value.code == "invalid_price"


def test_a_variant_price_must_be_in_the_shop_currency_and_not_negative(app: Flask) -> None:
    product = ProductFactory()

    with pytest.raises(InvalidPrice):
        services.add_variant(product.id, sku="EUR-1", price=Money(100, "EUR"))
    with pytest.raises(InvalidPrice):
        services.add_variant(product.id, sku="NEG-1", price=usd(-1))


def test_stock_cannot_be_negative(app: Flask) -> None:
    product = ProductFactory()

    with pytest.raises(InvalidStock):
        services.add_variant(product.id, sku="STK-1", price=usd(100), stock_quantity=-1)


def test_the_database_refuses_negative_stock(app: Flask) -> None:
    # given a variant with stock 1
    ProductFactory(variants=[{"sku": "CHK-1", "stock_quantity": 1}])

    # when an update would take the stock below zero, then the CHECK constraint refuses it
    # (an IntegrityError on SQLite and PostgreSQL, an OperationalError 4025 on MariaDB)
    with pytest.raises(sa.exc.DBAPIError) as raised, db.engine.begin() as connection:
        connection.execute(
            sa.update(Variant).where(Variant.sku == "CHK-1").values(stock_quantity=-1)
        )
    message = str(raised.value.orig)
    assert "ck_variants_stock_quantity_non_negative" in message or "CHECK" in message
    stock = db.session.scalar(sa.select(Variant.stock_quantity).where(Variant.sku == "CHK-1"))
    assert stock == 1


@pytest.mark.story("US-17")
def test_option_values_are_stored_with_capitalised_names(app: Flask) -> None:
    # given a product
    product = ProductFactory(variants=[], status=ProductStatus.DRAFT)

    # when a variant is added with lower-case option names
    variant = services.add_variant(
        product.id, sku="TEE-M-RED", price=usd(1500), options={"size": "M", "colour": " Red "}
    )

    # then the option rows are named Size and Colour, in the order given
    rows = db.session.execute(
        sa.select(VariantOptionValue.name, VariantOptionValue.value)
        .where(VariantOptionValue.variant_id == variant.id)
        .order_by(VariantOptionValue.position)
    ).all()
    assert [tuple(row) for row in rows] == [("Size", "M"), ("Colour", "Red")]

    # when the options are replaced, the old rows go
    services.update_variant(variant.id, options={"Size": "L"})
    rows = db.session.execute(
        sa.select(VariantOptionValue.name, VariantOptionValue.value).where(
            VariantOptionValue.variant_id == variant.id
        )
    ).all()
    assert [tuple(row) for row in rows] == [("Size", "L")]


def test_a_blank_title_is_refused(app: Flask) -> None:
    category = CategoryFactory()

    with pytest.raises(InvalidCatalogInput) as raised:
        services.create_product("   ", category_id=category.id)
    assert raised.value.fields == {"title": ["This field is required."]}


def test_an_unknown_status_is_refused(app: Flask) -> None:
    product = ProductFactory()

    with pytest.raises(InvalidCatalogInput) as raised:
        services.update_product(product.id, status="published")  # type: ignore[arg-type]

    assert raised.value.fields == {"status": ["Choose draft, active or archived."]}
    assert db.session.get(Product, product.id).status is ProductStatus.ACTIVE


@pytest.mark.story("US-29")
def test_a_catalogue_edit_cannot_change_stock_so_every_change_has_a_ledger_row(
    app: Flask,
) -> None:
    # given a variant holding 5 units
    product = ProductFactory(variants=[{"sku": "LEDGER-1", "stock_quantity": 5}])
    variant_id = db.session.scalars(
        sa.select(Variant.id).where(Variant.product_id == product.id)
    ).one()

    # when a catalogue edit tries to set its stock
    with pytest.raises(TypeError):
        services.update_variant(variant_id, stock_quantity=0)  # type: ignore[call-arg]

    # then the stock is unchanged: only the inventory services (and their ledger) change it
    db.session.rollback()
    assert db.session.get(Variant, variant_id).stock_quantity == 5
