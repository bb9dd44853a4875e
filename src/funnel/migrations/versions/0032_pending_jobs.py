"""Pending jobs: the outbox of jobs committed with their work, not yet taken by the broker.

Revision ID: 0032_pending_jobs
Revises: 0031_catalogue_versions
Create Date: 2026-12-06

With a broker configured, a job (an order's email) is written here in the transaction that
asks for it and deleted once the broker has it; a row left means the broker was down, and the
periodic relay sends it again (``funnel.core.outbox``). The relay reads the oldest first:
index on created_at.
"""

import sqlalchemy as sa
from alembic import op

from funnel.core.models import UTCDateTime

revision = "0032_pending_jobs"
down_revision = "0031_catalogue_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=200), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_jobs")),
    )
    op.create_index(op.f("ix_pending_jobs_created_at"), "pending_jobs", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_pending_jobs_created_at"), table_name="pending_jobs")
    op.drop_table("pending_jobs")
