"""Category sort indexes: a category page sorted by price or by name reads each category's
first rows from an index.

- products (category_id, status, min_price_amount, id): price, low to high and high to low;
- products (category_id, status, title, id): name.

A page of a category subtree is merged from each category's first rows in the sort's order
(``catalog.paging.merged_page``); without these, each category's rows were read in the sort
column's order across the whole catalogue.

Revision ID: 0039_category_sort_indexes
Revises: 0038_search_vector
Create Date: 2026-12-07
"""

from alembic import op

revision = "0039_category_sort_indexes"
down_revision = "0038_search_vector"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_products_category_id_status_min_price_amount_id"),
        "products",
        ["category_id", "status", "min_price_amount", "id"],
    )
    op.create_index(
        op.f("ix_products_category_id_status_title_id"),
        "products",
        ["category_id", "status", "title", "id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_products_category_id_status_title_id"), table_name="products")
    op.drop_index(op.f("ix_products_category_id_status_min_price_amount_id"), table_name="products")
