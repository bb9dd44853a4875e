"""US-15 and US-14: the demo command makes a deterministic catalogue and two accounts, once."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from funnel.accounts.models import Role, User
from funnel.catalog.listing import ListingFilters, ListingSort
from funnel.catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductStatus,
    Variant,
    VariantOptionValue,
)
from funnel.catalog.search import search_products
from funnel.extensions import db
from tests.support.databases import DatabaseProvider


def counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Category, Product, Variant, VariantOptionValue, ProductImage, User)
    }


def snapshot() -> list[tuple]:
    """Titles, SKUs, prices and stock of the catalogue, in SKU order."""
    rows = db.session.execute(
        sa.select(Product.title, Variant.sku, Variant.price_amount, Variant.stock_quantity)
        .join(Variant, Variant.product_id == Product.id)
        .order_by(Variant.sku)
    ).all()
    return [tuple(row) for row in rows]


def run_demo(app: Flask, *args: str):
    result = app.test_cli_runner().invoke(args=["demo", *args])
    assert result.exit_code == 0, result.output
    db.session.remove()
    return result


@pytest.mark.story("US-15")
def test_the_demo_makes_a_catalogue_and_a_second_run_adds_nothing(app: Flask) -> None:
    # when the demo is loaded with 60 products
    first = run_demo(app, "--products", "60")
    after_first = counts()

    # then there are 60 active products in 12 top-level categories with subcategories
    assert after_first["products"] == 60
    assert after_first["users"] == 2
    top_level = db.session.scalar(
        sa.select(sa.func.count()).select_from(Category).where(Category.parent_id.is_(None))
    )
    assert top_level == 12
    assert after_first["categories"] == 37
    statuses = set(db.session.scalars(sa.select(Product.status)))
    assert statuses == {ProductStatus.ACTIVE}
    assert "Demo catalogue: 60 products created, 60 in total." in first.output
    # every product has at least one variant and an image; some variants are out of stock
    assert after_first["product_images"] == 60
    products_without_variants = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Product)
        .where(~sa.exists().where(Variant.product_id == Product.id))
    )
    assert products_without_variants == 0
    out_of_stock = db.session.scalar(
        sa.select(sa.func.count()).select_from(Variant).where(Variant.stock_quantity == 0)
    )
    assert 0 < out_of_stock < after_first["variants"]

    # when it runs again
    second = run_demo(app, "--products", "60")

    # then nothing was added
    assert counts() == after_first
    assert "Demo catalogue: 0 products created, 60 in total." in second.output


@pytest.mark.story("US-15")
def test_the_demo_is_deterministic(
    app: Flask, backend: str, database_provider: DatabaseProvider
) -> None:
    # given the demo loaded once, and its catalogue noted
    run_demo(app, "--products", "25")
    first = snapshot()

    # when the database is emptied and the demo loaded again
    database_provider.empty(backend, db.engine)
    run_demo(app, "--products", "25")

    # then titles, SKUs, prices and stock are the same
    assert snapshot() == first
    assert len(first) == counts()["variants"]


@pytest.mark.story("US-15")
def test_a_larger_demo_keeps_the_first_products_and_adds_the_rest(app: Flask) -> None:
    run_demo(app, "--products", "10")
    first = snapshot()

    run_demo(app, "--products", "30")

    assert counts()["products"] == 30
    assert set(first) <= set(snapshot())


@pytest.mark.story("US-15")
def test_demo_products_are_searchable_by_sku(app: Flask) -> None:
    # given the demo catalogue
    run_demo(app, "--products", "30")
    sku, title = db.session.execute(
        sa.select(Variant.sku, Product.title).join(Product).order_by(Variant.id).limit(1)
    ).one()

    # when its first SKU is searched for
    result = search_products(sku, ListingFilters(), ListingSort.RELEVANCE, 1, 24)

    # then its product comes first
    assert result.listing is not None
    assert result.listing.page.items[0].title == title


@pytest.mark.story("US-15")
def test_demo_images_are_a_small_shared_palette(app: Flask) -> None:
    run_demo(app, "--products", "60")

    filenames = set(db.session.scalars(sa.select(ProductImage.filename)))
    media = Path(app.config["MEDIA_ROOT"])
    assert len(filenames) <= 26
    for filename in filenames:
        stem = filename.removesuffix(".png")
        assert (media / filename).is_file()
        assert (media / f"{stem}-400.png").is_file()
        assert (media / f"{stem}-800.png").is_file()


@pytest.mark.story("US-14")
def test_if_empty_skips_a_catalogue_that_has_products(app: Flask) -> None:
    run_demo(app, "--products", "5")

    result = run_demo(app, "--products", "50", "--if-empty")

    assert counts()["products"] == 5
    assert "The catalogue already has products: demo data not loaded." in result.output


@pytest.mark.story("US-14")
@pytest.mark.config(FUNNEL_ENV="development")
def test_in_development_the_demo_prints_the_demo_sign_ins(app: Flask) -> None:
    result = run_demo(app, "--products", "0")

    assert "admin@example.com  password: funnel-admin-demo-2026" in result.output
    assert "customer@example.com  password: funnel-customer-demo-2026" in result.output
    roles = dict(db.session.execute(sa.select(User.email, User.role)).all())
    assert roles == {"admin@example.com": Role.ADMIN, "customer@example.com": Role.CUSTOMER}


def test_outside_development_the_demo_prints_no_password(app: Flask) -> None:
    result = run_demo(app, "--products", "0")

    assert "password" not in result.output
    assert counts()["users"] == 2


@pytest.mark.story("US-15")
@pytest.mark.backends("postgresql")
def test_on_postgresql_the_demo_leaves_the_planner_statistics_of_what_it_loaded(
    app: Flask,
) -> None:
    # when the demo is loaded
    result = run_demo(app, "--products", "30")

    # then PostgreSQL knows how many rows the tables hold (a table never analysed shows -1)
    assert "Planner statistics refreshed (ANALYZE)." in result.output
    estimated = db.session.execute(
        sa.text(
            "SELECT relname, reltuples::bigint FROM pg_class "
            "WHERE relname IN ('products', 'variants') ORDER BY relname"
        )
    ).all()
    assert [tuple(row) for row in estimated] == [
        ("products", 30),
        ("variants", counts()["variants"]),
    ]


@pytest.mark.story("US-15")
@pytest.mark.backends("sqlite")
def test_on_sqlite_the_demo_writes_no_planner_statistics(app: Flask) -> None:
    result = run_demo(app, "--products", "5")

    assert "ANALYZE" not in result.output
    assert (
        db.session.scalar(sa.text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"))
        == 0
    )
