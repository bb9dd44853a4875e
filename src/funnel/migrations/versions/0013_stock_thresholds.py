"""Stock thresholds: a low-stock threshold per variant.

Revision ID: 0013_stock_thresholds
Revises: 0012_account_disabling
Create Date: 2026-12-05

``variants.low_stock_threshold`` is the number of available units at or below which staff see
the variant as low on stock; NULL (every existing variant) means the shop's default
(``FUNNEL_LOW_STOCK_THRESHOLD``). A threshold is never negative.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_stock_thresholds"
down_revision = "0012_account_disabling"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("variants") as batch:
        batch.add_column(sa.Column("low_stock_threshold", sa.Integer(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_variants_low_stock_threshold_non_negative"), "low_stock_threshold >= 0"
        )


def downgrade() -> None:
    with op.batch_alter_table("variants") as batch:
        batch.drop_constraint(op.f("ck_variants_low_stock_threshold_non_negative"), type_="check")
        batch.drop_column("low_stock_threshold")
