"""US-18: a cart's contents, always priced and checked against the catalogue and inventory."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, update

from funnel.cart import services
from funnel.cart.queries import CartContents, CartLineView, cart_contents
from funnel.catalog import services as catalog
from funnel.catalog.models import Product, ProductStatus, Variant
from funnel.core.database import transaction
from funnel.core.money import Money
from funnel.extensions import db
from funnel.inventory import services as inventory
from tests.factories.cart import cart_with
from tests.factories.catalog import ProductFactory
from tests.factories.inventory import stocked_variant


def variants_of(product: Product) -> list[Variant]:
    return list(
        db.session.scalars(
            select(Variant).where(Variant.product_id == product.id).order_by(Variant.id)
        )
    )


@pytest.mark.story("US-18")
def test_the_contents_give_every_line_with_catalogue_prices_and_totals(app: Flask) -> None:
    # given a cart with 2 tees (M / Red, $19.99) and 1 plain mug ($8.50, no options)
    tee_product = ProductFactory(
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
    mug_product = ProductFactory(
        title="Mug", variants=[{"sku": "MUG-1", "price": 850, "stock_quantity": 3}]
    )
    [tee], [mug] = variants_of(tee_product), variants_of(mug_product)
    cart = cart_with({tee: 2, mug: 1})

    # when its contents are read
    contents = cart_contents(cart.id)

    # then each line has the catalogue's data, and the totals add up
    tee_line, mug_line = contents.lines
    assert tee_line == CartLineView(
        line_id=tee_line.line_id,
        variant_id=tee.id,
        product_id=tee_product.id,
        sku="TEE-M",
        product_title="Organic tee",
        product_slug="organic-tee",
        variant_label="M / Red",
        unit_price=Money(1999, "USD"),
        quantity=2,
        line_total=Money(3998, "USD"),
        available=5,
        problem=None,
    )
    assert (mug_line.variant_label, mug_line.line_total, mug_line.available) == (
        "MUG-1",
        Money(850, "USD"),
        3,
    )
    assert contents == CartContents(
        cart_id=cart.id,
        lines=[tee_line, mug_line],
        subtotal=Money(4848, "USD"),
        item_count=3,
        has_problems=False,
    )


def test_an_empty_or_unknown_cart_has_no_subtotal(app: Flask) -> None:
    cart = services.create_cart()

    assert cart_contents(cart.id) == CartContents(cart.id, [], None, 0, has_problems=False)
    assert cart_contents(999_999) == CartContents(999_999, [], None, 0, has_problems=False)


@pytest.mark.story("US-18")
def test_a_price_change_in_the_catalogue_changes_the_cart(app: Flask) -> None:
    variant = stocked_variant(5)
    cart = cart_with({variant: 3})

    catalog.update_variant(variant.id, price=Money(1250, "USD"))

    contents = cart_contents(cart.id)
    assert contents.lines[0].unit_price == Money(1250, "USD")
    assert contents.subtotal == Money(3750, "USD")


@pytest.mark.story("US-18")
@pytest.mark.parametrize(
    ("change", "problem", "available"),
    [
        ("archived", "No longer available", 5),
        ("draft", "No longer available", 5),
        ("stock_lowered", "Only 2 left — please lower the quantity", 2),
        ("sold_out", "Out of stock — please remove it", 0),
        ("reserved_by_others", "Only 1 left — please lower the quantity", 1),
    ],
)
def test_a_line_that_cannot_be_bought_as_it_is_is_flagged(
    app: Flask, change: str, problem: str, available: int
) -> None:
    # given a cart with 3 units of a variant, and one fine line
    variant, fine = stocked_variant(5), stocked_variant(5)
    cart = cart_with({variant: 3, fine: 1})

    # when the variant's product or stock changes
    if change == "archived":
        catalog.archive_product(variant.product_id)
    elif change == "draft":
        catalog.update_product(variant.product_id, status=ProductStatus.DRAFT)
    elif change == "stock_lowered":
        inventory.adjust_stock(variant.id, new_level=2, reason="counted")
    elif change == "sold_out":
        inventory.adjust_stock(variant.id, new_level=0, reason="damaged")
    else:
        inventory.reserve("checkout:someone-else", {variant.id: 4})

    # then its line says so, the other does not, and the cart has a problem
    contents = cart_contents(cart.id)
    assert [(line.problem, line.available) for line in contents.lines] == [
        (problem, available),
        (None, 5),
    ]
    assert contents.has_problems is True


def test_a_deleted_variants_line_goes_with_it(app: Flask) -> None:
    # given a cart holding a variant that is then deleted from the database
    variant, fine = stocked_variant(5), stocked_variant(5)
    cart = cart_with({variant: 1, fine: 2})
    with transaction():
        db.session.execute(Variant.__table__.delete().where(Variant.__table__.c.id == variant.id))

    # then the cart shows the remaining line only (ON DELETE CASCADE)
    contents = cart_contents(cart.id)
    assert [line.variant_id for line in contents.lines] == [fine.id]
    assert contents.subtotal == Money(2000, "USD")


def test_a_line_priced_in_another_currency_is_flagged_and_left_out_of_the_subtotal(
    app: Flask,
) -> None:
    variant, fine = stocked_variant(5), stocked_variant(5)
    cart = cart_with({variant: 1, fine: 1})
    with transaction():
        db.session.execute(update(Variant).where(Variant.id == variant.id).values(currency="EUR"))

    contents = cart_contents(cart.id)

    assert [line.problem for line in contents.lines] == ["No longer available", None]
    assert contents.subtotal == Money(1000, "USD")


@pytest.mark.story("US-11")
def test_reading_the_contents_runs_three_queries_whatever_the_number_of_lines(
    app: Flask, sql_statements: list[str]
) -> None:
    # given a cart with 1 line and one with 10 (variants with options)
    def variant_with_options(number: int) -> Variant:
        product = ProductFactory(
            variants=[{"sku": f"Q-{number}", "options": {"Size": "M", "Colour": str(number)}}]
        )
        return variants_of(product)[0]

    small = cart_with({variant_with_options(0): 1}).id
    large = cart_with({variant_with_options(number): 1 for number in range(1, 11)}).id
    db.session.commit()

    # when each is read
    sql_statements.clear()
    assert len(cart_contents(small).lines) == 1
    one = len(sql_statements)
    sql_statements.clear()
    assert len(cart_contents(large).lines) == 10
    ten = len(sql_statements)

    # then both took the same three statements
    assert one == ten == 3
