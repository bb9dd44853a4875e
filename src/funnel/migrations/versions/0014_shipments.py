"""Shipments: the parcels an order is sent in, and how many units of each line went in each.

Revision ID: 0014_shipments
Revises: 0016_settings
Create Date: 2026-12-06

A ``shipments`` row is one parcel: its carrier (a known carrier's code, or ``other`` with the
name staff gave), its tracking number and link, when and by whom it was sent, and the one-time
key of the request that made it (unique per order, so that a double submit ships once). Its
``shipment_lines`` say how many units of which order line it holds. Orders shipped before this
revision have no shipments: their history still says when they were shipped.
"""

import sqlalchemy as sa
from alembic import op

from funnel.core.models import UTCDateTime

revision = "0014_shipments"
down_revision = "0016_settings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("carrier_name", sa.String(length=100), nullable=False),
        sa.Column("tracking_number", sa.String(length=64), nullable=False),
        sa.Column("tracking_url", sa.String(length=500), nullable=True),
        sa.Column("request_key", sa.String(length=100), nullable=True),
        sa.Column("shipped_at", UTCDateTime(), nullable=False),
        sa.Column("shipped_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_shipments_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["shipped_by_user_id"],
            ["users.id"],
            name=op.f("fk_shipments_shipped_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint(
            "order_id", "request_key", name=op.f("uq_shipments_order_id_request_key")
        ),
    )
    op.create_index(op.f("ix_shipments_order_id_id"), "shipments", ["order_id", "id"])

    op.create_table(
        "shipment_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_shipment_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_shipment_lines_order_line_id_order_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_shipment_lines_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_lines")),
        sa.UniqueConstraint(
            "shipment_id",
            "order_line_id",
            name=op.f("uq_shipment_lines_shipment_id_order_line_id"),
        ),
    )
    op.create_index(op.f("ix_shipment_lines_order_line_id"), "shipment_lines", ["order_line_id"])


def downgrade() -> None:
    op.drop_table("shipment_lines")
    op.drop_table("shipments")
