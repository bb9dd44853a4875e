"""Listing counts (products, and per option value) kept per worker under the catalogue version:
every catalogue change shows on the next request, whatever the way in, and a kept count is the
count the database gives."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from funnel.accounts.models import User
from funnel.catalog import services
from funnel.catalog.listing import LISTING_CACHE
from funnel.catalog.models import Category, Variant
from funnel.catalog.queries import RENDERED_LISTINGS, kept_category_tree
from funnel.catalog.services.csv_export import export_catalogue_csv
from funnel.catalog.versions import current_version
from funnel.core.database import transaction
from funnel.extensions import db
from funnel.inventory import services as inventory
from funnel.inventory.models import MovementReason
from tests.catalog.test_listings import facet_counts
from tests.factories.catalog import CategoryFactory, ProductFactory

pytestmark = pytest.mark.story("US-11")

FACET_QUERY = "SELECT variant_option_values.name"


def product_count(client: FlaskClient, url: str) -> int:
    """The number of products the listing says it has (over all its pages)."""
    html = client.get(url).get_data(as_text=True)
    (count,) = re.findall(r"(\d+) products?\b", html)
    return int(count)


@pytest.fixture
def lamps(app: Flask) -> Category:
    """Home > Lamps: two red lamps and a blue one; and a green lamp in Home > Garden."""
    home = CategoryFactory(name="Home")
    lamps = CategoryFactory(name="Lamps", parent_id=home.id)
    garden = CategoryFactory(name="Garden", parent_id=home.id)
    for title, colour, category in (
        ("Desk lamp", "Red", lamps),
        ("Floor lamp", "Red", lamps),
        ("Wall lamp", "Blue", lamps),
        ("Garden lamp", "Green", garden),
    ):
        ProductFactory(
            title=title,
            category_id=category.id,
            variants=[{"sku": title.upper().replace(" ", "-"), "options": {"Colour": colour}}],
        )
    return lamps


def variant_id(sku: str) -> int:
    return db.session.scalar(sa.select(Variant.id).where(Variant.sku == sku))


def version() -> int:
    db.session.commit()  # a new transaction: the latest committed version
    return current_version(db.session)


def test_facet_counts_change_on_the_next_request_after_each_kind_of_edit(
    client: FlaskClient, lamps: Category
) -> None:
    # given the counts shown (and so kept by this worker)
    assert facet_counts(client, "/c/lamps") == {"colour=Blue": 1, "colour=Red": 2}
    assert facet_counts(client, "/c/home") == {"colour=Blue": 1, "colour=Green": 1, "colour=Red": 2}

    # when a variant's option changes, then the next page counts it
    services.update_variant(variant_id("FLOOR-LAMP"), options={"Colour": "Blue"})
    assert facet_counts(client, "/c/lamps") == {"colour=Blue": 2, "colour=Red": 1}

    # when a product is archived
    desk = db.session.scalar(sa.select(Variant.product_id).where(Variant.sku == "DESK-LAMP"))
    assert product_count(client, "/c/lamps") == 3
    services.archive_product(desk)
    assert facet_counts(client, "/c/lamps") == {"colour=Blue": 2}
    assert product_count(client, "/c/lamps") == 2

    # when a category moves out of Home
    garden = db.session.scalar(sa.select(Category.id).where(Category.slug == "garden"))
    services.update_category(garden, parent_id=None)
    assert facet_counts(client, "/c/home") == {"colour=Blue": 2}

    # when a product is added, in search too
    assert facet_counts(client, "/search?q=lamp") == {"colour=Blue": 2, "colour=Green": 1}
    ProductFactory(
        title="Reading lamp",
        category_id=lamps.id,
        variants=[{"sku": "READING-LAMP", "options": {"Colour": "Green"}}],
    )
    assert facet_counts(client, "/search?q=lamp") == {"colour=Blue": 2, "colour=Green": 2}
    assert product_count(client, "/search?q=lamp") == 4
    assert facet_counts(client, "/c/lamps") == {"colour=Blue": 2, "colour=Green": 1}


def test_a_kept_count_is_the_count_the_database_gives(
    client: FlaskClient, lamps: Category, sql_statements: list[str]
) -> None:
    urls = [
        "/c/home",
        "/c/home?colour=Red&sort=price-asc",
        "/c/lamps?colour=Red&colour=Blue&page=1",
        "/c/lamps?min_price=5&max_price=20",
        "/search?q=lamp",
        "/search?q=lamp&colour=Green",
    ]

    def pages() -> tuple[list[dict[str, int]], int]:
        sql_statements.clear()
        counts = [facet_counts(client, url) for url in urls]
        return counts, sum(s.startswith(FACET_QUERY) for s in sql_statements)

    # when each page is read three times: counted, from memory, and counted again
    counted, counted_queries = pages()
    kept, kept_queries = pages()
    LISTING_CACHE.clear()
    RENDERED_LISTINGS.clear()
    recounted, _ = pages()

    # then the three give the same counts, and the second read counted nothing
    assert counted == kept == recounted
    assert counted[1] == {"colour=Blue": 1, "colour=Green": 1, "colour=Red": 2}
    assert counted[3] == {"colour=Blue": 1, "colour=Red": 2}
    assert (counted_queries, kept_queries) == (9, 0)
    assert len(LISTING_CACHE) == len(urls) + 3  # and the order of sizes of its 3 listings


def test_the_order_of_a_listings_sizes_is_counted_once_for_all_its_filters(
    client: FlaskClient, lamps: Category, sql_statements: list[str]
) -> None:
    # given a listing read with its filters and sorts, after a catalogue change
    urls = [
        "/c/home",
        "/c/home?colour=Red",
        "/c/home?colour=Blue&sort=price-asc",
        "/c/home?min_price=5",
    ]

    def order_counts() -> int:
        sql_statements.clear()
        for url in urls:
            assert client.get(url).status_code == 200
        return sum(" AS later " in statement for statement in sql_statements)

    # when each is read for the first time, then the order of its sizes is counted once
    assert order_counts() == 1

    # when the catalogue changes, then it is counted once again for all of them
    services.update_variant(variant_id("WALL-LAMP"), options={"Colour": "Green"})
    assert order_counts() == 1
    assert facet_counts(client, "/c/home?colour=Red") == {
        "colour=Green": 2,
        "colour=Red": 2,
    }


def edit_then_fail(wall_lamp: int, seen_meanwhile: list[int]) -> None:
    """Make the wall lamp red, flush, note the version another connection reads, and fail."""
    with transaction():
        services.update_variant(wall_lamp, options={"Colour": "Red"})
        db.session.flush()
        other = sa.create_engine(db.engine.url)
        try:
            with other.connect() as connection:
                seen_meanwhile.append(current_version(Session(bind=connection)))
        finally:
            other.dispose()
        raise RuntimeError("the edit fails")


def test_a_stock_change_keeps_the_version_and_a_rolled_back_edit_changes_nothing(
    client: FlaskClient, lamps: Category
) -> None:
    # given the catalogue's version once the lamps are in, and their counts shown
    before = version()
    assert before != 0
    assert facet_counts(client, "/c/lamps") == {"colour=Blue": 1, "colour=Red": 2}

    # when stock is written off (the listings neither filter nor count by stock)
    inventory.adjust_stock(variant_id("DESK-LAMP"), delta=-2, reason=MovementReason.DAMAGED)

    # then the version is the same
    assert version() == before

    # when an edit fails after its change reached the database (flushed, not committed)
    seen_meanwhile: list[int] = []
    with pytest.raises(RuntimeError):
        edit_then_fail(variant_id("WALL-LAMP"), seen_meanwhile)

    # then others read the old version while the edit ran: the new one was in its transaction
    assert seen_meanwhile == [before]
    # then the version and the counts are as they were
    assert version() == before
    assert facet_counts(client, "/c/lamps") == {"colour=Blue": 1, "colour=Red": 2}

    # and when the edit commits, both change
    services.update_variant(variant_id("WALL-LAMP"), options={"Colour": "Red"})
    assert version() not in (before, 0)
    assert facet_counts(client, "/c/lamps") == {"colour=Red": 3}


def test_a_csv_import_changes_the_counts(client: FlaskClient, lamps: Category) -> None:
    # given the counts shown, and the export with the wall lamp made green
    assert facet_counts(client, "/c/lamps") == {"colour=Blue": 1, "colour=Red": 2}
    rows = list(csv.DictReader(io.StringIO("".join(export_catalogue_csv()))))
    (wall,) = [row for row in rows if row["sku"] == "WALL-LAMP"]
    wall["options"] = "Colour=Green"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)

    # when it is imported (bulk statements, not the ORM's flush)
    summary = inventory.import_catalogue(out.getvalue().encode())

    # then the next page counts the new option
    assert summary.variants_updated == 1
    assert facet_counts(client, "/c/lamps") == {"colour=Green": 1, "colour=Red": 2}


def test_a_staff_api_edit_changes_the_counts(
    client: FlaskClient,
    lamps: Category,
    admin_user: User,
    bearer: Callable[..., dict[str, str]],
) -> None:
    # given the counts shown
    assert facet_counts(client, "/c/lamps") == {"colour=Blue": 1, "colour=Red": 2}

    # when staff change a variant's options through the API
    response = client.patch(
        f"/api/v1/staff/variants/{variant_id('DESK-LAMP')}",
        json={"options": {"Colour": "Blue"}},
        headers=bearer(admin_user),
    )

    # then the next page counts them
    assert response.status_code == 200, response.get_data(as_text=True)
    assert facet_counts(client, "/c/lamps") == {"colour=Blue": 2, "colour=Red": 1}


def test_the_menu_reads_no_category_while_the_catalogue_is_unchanged_and_shows_a_change_next(
    client: FlaskClient, lamps: Category, sql_statements: list[str]
) -> None:
    # given the home page read once (the category tree is then kept by this worker)
    assert client.get("/").status_code == 200

    # when it is read again
    sql_statements.clear()
    html = client.get("/").get_data(as_text=True)

    # then its menu shows the top category without reading a category
    assert ">Home</a>" in html
    assert [sql for sql in sql_statements if "FROM categories" in sql] == []

    # when staff rename the top category and add another
    services.update_category(lamps.parent_id, name="House")
    services.create_category("Outdoor")

    # then the very next page's menu shows both, and a listing finds the new name
    html = client.get("/").get_data(as_text=True)
    assert ">House</a>" in html
    assert ">Outdoor</a>" in html
    assert ">Home</a>" not in html
    assert "House" in client.get("/c/lamps").get_data(as_text=True)


def test_a_transaction_that_changes_a_category_reads_the_change_from_the_kept_tree(
    app: Flask, lamps: Category
) -> None:
    # given the kept tree read in a transaction (its catalogue version then known to it)
    db.session.commit()
    assert "Attic" not in [category.name for category in kept_category_tree().categories]

    # when the same transaction adds a category
    db.session.add(Category(name="Attic", slug="attic", description="", position=9))
    db.session.flush()

    # then the tree it reads next has it (the version it knew is dropped with the change)
    assert "Attic" in [category.name for category in kept_category_tree().categories]
    db.session.rollback()

    # and once undone, the tree no longer has it
    assert "Attic" not in [category.name for category in kept_category_tree().categories]
