"""Where visits come from: source, medium, campaign, landing page and device class on funnel
events (on visit events only; the referrer URL and the user agent are not kept).

Revision ID: 0028_visit_sources
Revises: 0027_sales_reports
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0028_visit_sources"
down_revision = "0027_sales_reports"
branch_labels = None
depends_on = None

COLUMNS = (
    ("source", 100),
    ("medium", 50),
    ("campaign", 100),
    ("landing_path", 200),
    ("device", 8),
)


def upgrade() -> None:
    with op.batch_alter_table("funnel_events") as batch:
        for name, length in COLUMNS:
            batch.add_column(sa.Column(name, sa.String(length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("funnel_events") as batch:
        for name, _length in reversed(COLUMNS):
            batch.drop_column(name)
