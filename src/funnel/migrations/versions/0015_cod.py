"""Orders by payment method: an index for the staff list's payment method filter.

Revision ID: 0015_cod
Revises: 0013_stock_thresholds
Create Date: 2026-12-12

Staff filter orders by payment method (``orders.payment_gateway``), newest first. With
``(payment_gateway, placed_at)`` the database reads a rare method's orders (cash on delivery
among card payments) straight from the index instead of scanning every order. Cash on
delivery itself needs no schema change: it is a gateway name like the others.
"""

from alembic import op

revision = "0015_cod"
down_revision = "0013_stock_thresholds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_orders_payment_gateway_placed_at"), "orders", ["payment_gateway", "placed_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_orders_payment_gateway_placed_at"), table_name="orders")
