"""Orders: orders (with a snapshot of the shipping address), their lines, their status events.

Revision ID: 0005_orders
Revises: 0004_payments
Create Date: 2026-11-28

Hand-checked to match ``funnel.orders.models`` on SQLite, PostgreSQL and MariaDB; names follow
``funnel.core.models.NAMING_CONVENTION``. The database itself checks that an order's total is
subtotal + shipping + tax and that a line's total is its unit price times its quantity.
"""

import sqlalchemy as sa
from alembic import op

from funnel.core.models import UTCDateTime

revision = "0005_orders"
down_revision = "0004_payments"
branch_labels = None
depends_on = None

ORDER_STATUSES = ("pending_payment", "paid", "fulfilled", "delivered", "cancelled", "refunded")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(*ORDER_STATUSES, name="orderstatus", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("shipping_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate_basis_points", sa.Integer(), nullable=False),
        sa.Column("shipping_method_code", sa.String(length=32), nullable=False),
        sa.Column("shipping_method_name", sa.String(length=100), nullable=False),
        sa.Column("ship_full_name", sa.String(length=200), nullable=False),
        sa.Column("ship_company", sa.String(length=200), nullable=True),
        sa.Column("ship_line1", sa.String(length=200), nullable=False),
        sa.Column("ship_line2", sa.String(length=200), nullable=True),
        sa.Column("ship_city", sa.String(length=100), nullable=False),
        sa.Column("ship_region", sa.String(length=100), nullable=True),
        sa.Column("ship_postal_code", sa.String(length=20), nullable=False),
        sa.Column("ship_country_code", sa.String(length=2), nullable=False),
        sa.Column("ship_phone", sa.String(length=40), nullable=True),
        sa.Column("payment_gateway", sa.String(length=32), nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=True),
        sa.Column("placed_at", UTCDateTime(), nullable=False),
        sa.Column("paid_at", UTCDateTime(), nullable=True),
        sa.Column("fulfilled_at", UTCDateTime(), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("refunded_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(_in("status", ORDER_STATUSES), name=op.f("ck_orders_status")),
        sa.CheckConstraint(
            "subtotal_minor >= 0 AND shipping_minor >= 0 AND tax_minor >= 0",
            name=op.f("ck_orders_amounts_non_negative"),
        ),
        sa.CheckConstraint(
            "tax_rate_basis_points >= 0", name=op.f("ck_orders_tax_rate_non_negative")
        ),
        sa.CheckConstraint(
            "total_minor = subtotal_minor + shipping_minor + tax_minor",
            name=op.f("ck_orders_total_adds_up"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_orders_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_orders_number")),
    )
    for columns in (["email"], ["placed_at"], ["status", "placed_at"], ["user_id", "placed_at"]):
        op.create_index(op.f("ix_orders_" + "_".join(columns)), "orders", columns)

    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name=op.f("fk_order_events_actor_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_events_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    op.create_index(op.f("ix_order_events_order_id_id"), "order_events", ["order_id", "id"])

    op.create_table(
        "order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("product_title", sa.String(length=200), nullable=False),
        sa.Column("variant_label", sa.String(length=200), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("line_total_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "line_total_minor = unit_price_minor * quantity",
            name=op.f("ck_order_lines_line_total"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_lines_quantity_positive")),
        sa.CheckConstraint(
            "unit_price_minor >= 0", name=op.f("ck_order_lines_unit_price_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["variants.id"],
            name=op.f("fk_order_lines_variant_id_variants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
    )
    op.create_index(op.f("ix_order_lines_order_id_id"), "order_lines", ["order_id", "id"])
    op.create_index(op.f("ix_order_lines_variant_id"), "order_lines", ["variant_id"])


def downgrade() -> None:
    op.drop_table("order_lines")
    op.drop_table("order_events")
    op.drop_table("orders")
