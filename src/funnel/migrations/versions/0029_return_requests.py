"""Return requests: a customer's request to send back units of a delivered order.

Revision ID: 0029_return_requests
Revises: 0028_visit_sources
Create Date: 2026-12-06

An ``order_returns`` row is one request: its number (the order's, ``-R`` and its place among
the order's returns), its status (requested, approved, rejected, received, refunded), the
customer's reason, staff's note, when it was decided, received and refunded, and the refund
that settled it. Its ``order_return_lines`` say how many units of which order line were asked
for, and how many of them went back to stock when they arrived.
"""

import sqlalchemy as sa
from alembic import op

from funnel.core.models import UTCDateTime

revision = "0029_return_requests"
down_revision = "0028_visit_sources"
branch_labels = None
depends_on = None

STATUSES = ("requested", "approved", "rejected", "received", "refunded")


def upgrade() -> None:
    op.create_table(
        "order_returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="returnstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("staff_note", sa.String(length=500), nullable=False),
        sa.Column("request_key", sa.String(length=100), nullable=True),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=True),
        sa.Column("refunded_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'rejected', 'received', 'refunded')",
            name=op.f("ck_order_returns_status"),
        ),
        sa.CheckConstraint("sequence > 0", name=op.f("ck_order_returns_sequence_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_returns_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"],
            ["order_refunds.id"],
            name=op.f("fk_order_returns_refund_id_order_refunds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_returns")),
        sa.UniqueConstraint("number", name=op.f("uq_order_returns_number")),
        sa.UniqueConstraint("request_key", name=op.f("uq_order_returns_request_key")),
        sa.UniqueConstraint(
            "order_id", "sequence", name=op.f("uq_order_returns_order_id_sequence")
        ),
    )
    op.create_index(
        op.f("ix_order_returns_status_created_at"), "order_returns", ["status", "created_at"]
    )

    op.create_table(
        "order_return_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("restocked_quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_return_lines_quantity_positive")),
        sa.CheckConstraint(
            "restocked_quantity >= 0 AND restocked_quantity <= quantity",
            name=op.f("ck_order_return_lines_restocked_within"),
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_order_return_lines_order_line_id_order_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["order_returns.id"],
            name=op.f("fk_order_return_lines_return_id_order_returns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_return_lines")),
        sa.UniqueConstraint(
            "return_id",
            "order_line_id",
            name=op.f("uq_order_return_lines_return_id_order_line_id"),
        ),
    )
    op.create_index(
        op.f("ix_order_return_lines_order_line_id"), "order_return_lines", ["order_line_id"]
    )


def downgrade() -> None:
    op.drop_table("order_return_lines")
    op.drop_table("order_returns")
