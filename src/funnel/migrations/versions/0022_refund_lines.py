"""Refunds by line: each refund of an order, and how many units of which line it gave back.

Revision ID: 0022_refund_lines
Revises: 0020_audit_log
Create Date: 2026-12-05

An ``order_refunds`` row is one refund: its amount (of which the shipping), its reason, who
made it, and the idempotency key it was made under (unique: the same request refunds once).
It is ``pending`` while the gateway is asked, so that its lines are held against a second
refund at the same moment, and ``succeeded`` once the money went back. Its
``order_refund_lines`` say how many units of which order line it refunded, for how much, and
whether they went back to stock. Refunds made before this revision have no rows: the payment
still knows how much they gave back.
"""

import sqlalchemy as sa
from alembic import op

from funnel.core.models import UTCDateTime

revision = "0022_refund_lines"
down_revision = "0020_audit_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "succeeded", name="refundstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("shipping_minor", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("refunded_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded')", name=op.f("ck_order_refunds_status")
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_order_refunds_amount_positive")),
        sa.CheckConstraint(
            "shipping_minor >= 0 AND shipping_minor <= amount_minor",
            name=op.f("ck_order_refunds_shipping_within"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_refunds_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name=op.f("fk_order_refunds_actor_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_refunds")),
        sa.UniqueConstraint("request_key", name=op.f("uq_order_refunds_request_key")),
    )
    op.create_index(op.f("ix_order_refunds_order_id_id"), "order_refunds", ["order_id", "id"])

    op.create_table(
        "order_refund_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("is_restocked", sa.Boolean(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_refund_lines_quantity_positive")),
        sa.CheckConstraint(
            "amount_minor >= 0", name=op.f("ck_order_refund_lines_amount_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_order_refund_lines_order_line_id_order_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"],
            ["order_refunds.id"],
            name=op.f("fk_order_refund_lines_refund_id_order_refunds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_refund_lines")),
        sa.UniqueConstraint(
            "refund_id",
            "order_line_id",
            name=op.f("uq_order_refund_lines_refund_id_order_line_id"),
        ),
    )
    op.create_index(
        op.f("ix_order_refund_lines_order_line_id"), "order_refund_lines", ["order_line_id"]
    )


def downgrade() -> None:
    op.drop_table("order_refund_lines")
    op.drop_table("order_refunds")
