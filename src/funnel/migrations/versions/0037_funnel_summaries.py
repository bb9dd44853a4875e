"""Funnel summaries: each visitor's stages per shop day, so the funnel reports count rows.

Revision ID: 0037_funnel_summaries
Revises: 0036_request_minutes
Create Date: 2026-12-07

``funnel_visitor_days`` holds one row per stage, visitor and shop day, with the visitor's
previous day at that stage (``funnel_product_visitor_days`` the same per product, for views and
adds to cart); ``funnel_summary_state`` how far it goes and in which time zone;
``late_funnel_events`` the events written long after they happened, for the next run to add.
The tables start empty: the reports count from the events until the first summary run
(``flask --app funnel jobs run reports-summarise-funnel`` or the scheduler) fills them.
"""

import sqlalchemy as sa
from alembic import op

from funnel.core.models import UTCDateTime

revision = "0037_funnel_summaries"
down_revision = "0036_request_minutes"
branch_labels = None
depends_on = None

FUNNEL_STAGES = (
    "visit",
    "product_view",
    "add_to_cart",
    "checkout_started",
    "payment_attempted",
    "order_paid",
)
STAGE_CHECK = "stage IN (" + ", ".join(f"'{stage}'" for stage in FUNNEL_STAGES) + ")"


def _stage() -> sa.Column:
    return sa.Column(
        "stage",
        sa.Enum(*FUNNEL_STAGES, name="funnelstage", native_enum=False, length=32),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "funnel_visitor_days",
        _stage(),
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("previous_day", sa.Date(), nullable=True),
        sa.CheckConstraint(STAGE_CHECK, name=op.f("ck_funnel_visitor_days_stage")),
        sa.PrimaryKeyConstraint("stage", "visitor_id", "day", name=op.f("pk_funnel_visitor_days")),
    )
    op.create_index(
        op.f("ix_funnel_visitor_days_stage_day_previous_day"),
        "funnel_visitor_days",
        ["stage", "day", "previous_day"],
    )
    op.create_table(
        "funnel_product_visitor_days",
        _stage(),
        sa.Column("product_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("previous_day", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "stage IN ('product_view', 'add_to_cart')",
            name=op.f("ck_funnel_product_visitor_days_stage"),
        ),
        sa.PrimaryKeyConstraint(
            "stage",
            "product_id",
            "visitor_id",
            "day",
            name=op.f("pk_funnel_product_visitor_days"),
        ),
    )
    op.create_index(
        op.f("ix_funnel_product_visitor_days_by_day"),
        "funnel_product_visitor_days",
        ["stage", "day", "previous_day", "product_id", "visitor_id"],
    )
    op.create_table(
        "funnel_summary_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("summarised_through", sa.Date(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funnel_summary_state")),
    )
    op.create_table(
        "late_funnel_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        _stage(),
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(STAGE_CHECK, name=op.f("ck_late_funnel_events_stage")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_late_funnel_events")),
    )


def downgrade() -> None:
    op.drop_table("late_funnel_events")
    op.drop_table("funnel_summary_state")
    op.drop_index(
        op.f("ix_funnel_product_visitor_days_by_day"),
        table_name="funnel_product_visitor_days",
    )
    op.drop_table("funnel_product_visitor_days")
    op.drop_index(
        op.f("ix_funnel_visitor_days_stage_day_previous_day"), table_name="funnel_visitor_days"
    )
    op.drop_table("funnel_visitor_days")
