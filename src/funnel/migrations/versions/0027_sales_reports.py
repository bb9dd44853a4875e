"""Sales reports: an index on orders (paid_at).

The sales and products reports read the orders paid in a range of days; without the index each
report reads every order the shop ever took.

Revision ID: 0027_sales_reports
Revises: 0026_payments_received
Create Date: 2026-12-06
"""

from alembic import op

revision = "0027_sales_reports"
down_revision = "0026_payments_received"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_orders_paid_at"), "orders", ["paid_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_orders_paid_at"), table_name="orders")
