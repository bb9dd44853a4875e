"""Checkouts: the server-side state of a customer's way from cart to order.

Revision ID: 0007_checkout
Revises: 0006_cart
Create Date: 2026-11-28

Hand-checked to match ``funnel.checkout.models``; names follow
``funnel.core.models.NAMING_CONVENTION``. A checkout goes with its cart (ON DELETE CASCADE);
its account and its order may go without it (SET NULL).
"""

import sqlalchemy as sa
from alembic import op

from funnel.core.models import UTCDateTime

revision = "0007_checkout"
down_revision = "0006_cart"
branch_labels = None
depends_on = None

CHECKOUT_STATUSES = ("open", "completed", "abandoned")


def upgrade() -> None:
    statuses = "status IN (" + ", ".join(f"'{status}'" for status in CHECKOUT_STATUSES) + ")"
    op.create_table(
        "checkouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("cart_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("ship_full_name", sa.String(length=200), nullable=True),
        sa.Column("ship_company", sa.String(length=200), nullable=True),
        sa.Column("ship_line1", sa.String(length=200), nullable=True),
        sa.Column("ship_line2", sa.String(length=200), nullable=True),
        sa.Column("ship_city", sa.String(length=100), nullable=True),
        sa.Column("ship_region", sa.String(length=100), nullable=True),
        sa.Column("ship_postal_code", sa.String(length=20), nullable=True),
        sa.Column("ship_country_code", sa.String(length=2), nullable=True),
        sa.Column("ship_phone", sa.String(length=40), nullable=True),
        sa.Column("shipping_method_code", sa.String(length=32), nullable=True),
        sa.Column("reviewed_total_minor", sa.BigInteger(), nullable=True),
        sa.Column("submit_nonce", sa.String(length=64), nullable=True),
        sa.Column("submit_token_hash", sa.String(length=64), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("payment_attempts", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=True),
        sa.Column(
            "status",
            sa.Enum(*CHECKOUT_STATUSES, name="checkoutstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(statuses, name=op.f("ck_checkouts_status")),
        sa.CheckConstraint(
            "reviewed_total_minor IS NULL OR reviewed_total_minor >= 0",
            name=op.f("ck_checkouts_total"),
        ),
        sa.ForeignKeyConstraint(
            ["cart_id"], ["carts.id"], name=op.f("fk_checkouts_cart_id_carts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_checkouts_user_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_checkouts_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkouts")),
        sa.UniqueConstraint("token", name=op.f("uq_checkouts_token")),
    )
    op.create_index(op.f("ix_checkouts_cart_id"), "checkouts", ["cart_id"])
    op.create_index(op.f("ix_checkouts_user_id"), "checkouts", ["user_id"])
    op.create_index(op.f("ix_checkouts_order_id"), "checkouts", ["order_id"])
    op.create_index("ix_checkouts_status_expires_at", "checkouts", ["status", "expires_at"])


def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB refuses to drop one a foreign key needs).
    op.drop_table("checkouts")
