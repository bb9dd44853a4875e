"""The shop's settings: a row per key that staff saved, and the history of every change.

Revision ID: 0016_settings
Revises: 0017_staff_team
Create Date: 2026-12-06

``shop_settings`` holds a JSON value per key (shipping methods, tax rates, bank transfer
details, the shop's name and address, the order number prefix); a key without a row keeps its
initial value from the environment, so nothing changes for an existing shop.
``shop_setting_changes`` records who changed which key, when, from what to what.
"""

import sqlalchemy as sa
from alembic import op

from funnel.core.models import UTCDateTime

revision = "0016_settings"
down_revision = "0017_staff_team"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shop_settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_shop_settings")),
    )
    op.create_table(
        "shop_setting_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_by_email", sa.String(254), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_setting_changes")),
    )
    op.create_index(
        op.f("ix_shop_setting_changes_changed_at"), "shop_setting_changes", ["changed_at"]
    )


def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB refuses to drop one a foreign key needs).
    op.drop_table("shop_setting_changes")
    op.drop_table("shop_settings")
