"""Inventory (stock ledger, reservations) and analytics (funnel events).

Revision ID: 0003_inventory_analytics
Revises: 0002_catalog (and needs 0001_accounts: movements name their actor)
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from funnel.core.models import UTCDateTime

revision = "0003_inventory_analytics"
down_revision = "0002_catalog"
branch_labels = None
depends_on = "0001_accounts"

MOVEMENT_REASONS = (
    "opening_balance",
    "received",
    "counted",
    "damaged",
    "returned",
    "adjustment",
    "correction",
    "sale",
    "cancellation_return",
    "refund_return",
)
FUNNEL_STAGES = (
    "visit",
    "product_view",
    "add_to_cart",
    "checkout_started",
    "payment_attempted",
    "order_paid",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def upgrade() -> None:
    op.create_table(
        "stock_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(*MOVEMENT_REASONS, name="movementreason", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("order_reference", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("opening_variant_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(_in("reason", MOVEMENT_REASONS), name=op.f("ck_stock_movements_reason")),
        sa.CheckConstraint(
            "balance_after >= 0", name=op.f("ck_stock_movements_balance_after_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"], ["variants.id"], name=op.f("fk_stock_movements_variant_id_variants")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_stock_movements_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movements")),
        sa.UniqueConstraint(
            "opening_variant_id", name=op.f("uq_stock_movements_opening_variant_id")
        ),
    )
    for columns in (["variant_id", "id"], ["order_reference"], ["actor_id"], ["created_at"]):
        op.create_index(op.f("ix_stock_movements_" + "_".join(columns)), "stock_movements", columns)

    op.create_table(
        "stock_reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_stock_reservations_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["variants.id"],
            name=op.f("fk_stock_reservations_variant_id_variants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_reservations")),
        sa.UniqueConstraint(
            "holder", "variant_id", name=op.f("uq_stock_reservations_holder_variant_id")
        ),
    )
    op.create_index(
        op.f("ix_stock_reservations_variant_id_expires_at"),
        "stock_reservations",
        ["variant_id", "expires_at"],
    )
    op.create_index(op.f("ix_stock_reservations_expires_at"), "stock_reservations", ["expires_at"])

    op.create_table(
        "funnel_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "stage",
            sa.Enum(*FUNNEL_STAGES, name="funnelstage", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("order_reference", sa.String(length=64), nullable=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=160), nullable=True),
        sa.CheckConstraint(_in("stage", FUNNEL_STAGES), name=op.f("ck_funnel_events_stage")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funnel_events")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_funnel_events_dedupe_key")),
    )
    op.create_index(
        op.f("ix_funnel_events_stage_occurred_at"), "funnel_events", ["stage", "occurred_at"]
    )
    op.create_index(op.f("ix_funnel_events_occurred_at"), "funnel_events", ["occurred_at"])


def downgrade() -> None:
    op.drop_table("funnel_events")
    op.drop_table("stock_reservations")
    op.drop_table("stock_movements")
