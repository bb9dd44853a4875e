"""Catalogue: categories, products, variants, option values, images, and full-text search.

The search index depends on the database: an FTS5 external-content table kept by triggers on
SQLite, a GIN index over ``to_tsvector('simple', search_document)`` on PostgreSQL, and a
FULLTEXT index on MariaDB/MySQL. These objects are not in the models' metadata: the schema
comparison ignores them by name (``products_fts*`` and ``ix_products_search_document_*``).

Revision ID: 0002_catalog
Revises: 0001_accounts
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from funnel.core.models import UTCDateTime

revision = "0002_catalog"
down_revision = "0001_accounts"
branch_labels = None
depends_on = None

SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE products_fts USING fts5("
    "search_document, content='products', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER products_fts_after_insert AFTER INSERT ON products BEGIN "
    "INSERT INTO products_fts(rowid, search_document) VALUES (new.id, new.search_document); "
    "END",
    "CREATE TRIGGER products_fts_after_delete AFTER DELETE ON products BEGIN "
    "INSERT INTO products_fts(products_fts, rowid, search_document) "
    "VALUES ('delete', old.id, old.search_document); "
    "END",
    "CREATE TRIGGER products_fts_after_update AFTER UPDATE OF search_document ON products BEGIN "
    "INSERT INTO products_fts(products_fts, rowid, search_document) "
    "VALUES ('delete', old.id, old.search_document); "
    "INSERT INTO products_fts(rowid, search_document) VALUES (new.id, new.search_document); "
    "END",
    # Index rows that existed before the table (none on a fresh install; harmless otherwise).
    "INSERT INTO products_fts(products_fts) VALUES ('rebuild')",
)


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("slug", sa.String(length=140), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["categories.id"], name=op.f("fk_categories_parent_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_categories_slug")),
    )
    op.create_index(
        op.f("ix_categories_parent_id_position"), "categories", ["parent_id", "position"]
    )

    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=220), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "active",
                "archived",
                name="productstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("seo_title", sa.String(length=200), nullable=False),
        sa.Column("seo_description", sa.String(length=320), nullable=False),
        sa.Column("is_featured", sa.Boolean(), nullable=False),
        sa.Column("min_price_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("search_document", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'archived')", name=op.f("ck_products_status")
        ),
        sa.CheckConstraint(
            "min_price_amount >= 0", name=op.f("ck_products_min_price_amount_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_products_category_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("slug", name=op.f("uq_products_slug")),
    )
    for columns in (
        ["category_id", "status", "created_at"],
        ["status", "created_at"],
        ["status", "is_featured", "created_at"],
        ["status", "min_price_amount"],
        ["status", "title"],
    ):
        op.create_index(op.f("ix_products_" + "_".join(columns)), "products", columns)

    op.create_table(
        "product_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("alt_text", sa.String(length=300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_images_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_images")),
    )
    op.create_index(
        op.f("ix_product_images_product_id_position"), "product_images", ["product_id", "position"]
    )

    op.create_table(
        "variants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stock_quantity", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("price_amount >= 0", name=op.f("ck_variants_price_amount_non_negative")),
        sa.CheckConstraint(
            "stock_quantity >= 0", name=op.f("ck_variants_stock_quantity_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_variants_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_variants")),
        sa.UniqueConstraint("sku", name=op.f("uq_variants_sku")),
    )
    op.create_index(op.f("ix_variants_product_id_position"), "variants", ["product_id", "position"])

    op.create_table(
        "variant_option_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["variants.id"],
            name=op.f("fk_variant_option_values_variant_id_variants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_variant_option_values")),
        sa.UniqueConstraint(
            "variant_id", "name", name=op.f("uq_variant_option_values_variant_id_name")
        ),
    )
    op.create_index(
        op.f("ix_variant_option_values_name_value"), "variant_option_values", ["name", "value"]
    )

    _create_search_index()


def _create_search_index() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_SEARCH:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(
            "CREATE INDEX ix_products_search_document_tsv ON products "
            "USING gin (to_tsvector('simple', search_document))"
        )
    elif dialect in {"mysql", "mariadb"}:
        op.execute(
            "CREATE FULLTEXT INDEX ix_products_search_document_fulltext "
            "ON products (search_document)"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS products_fts_after_{trigger}")
        op.execute("DROP TABLE IF EXISTS products_fts")
    op.drop_table("variant_option_values")
    op.drop_table("variants")
    op.drop_table("product_images")
    op.drop_table("products")
    op.drop_table("categories")
