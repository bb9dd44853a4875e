"""Failed payments, newest first: an index on payments (status, created_at).

Declined and refused card attempts no longer place orders; staff read them on the failed
payments page, which lists the payments in one status by date.

Revision ID: 0024_failed_payments
Revises: 0023_search_index
Create Date: 2026-12-06
"""

from alembic import op

revision = "0024_failed_payments"
down_revision = "0023_search_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_payments_status_created_at"), "payments", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_payments_status_created_at"), table_name="payments")
