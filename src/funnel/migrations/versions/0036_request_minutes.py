"""Request minutes: each web process's requests of each minute, for the Operations page.

Revision ID: 0036_request_minutes
Revises: 0033_reconciliation_findings
Create Date: 2026-12-06

One row per process and minute (requests, client and server errors, total time, latency
buckets), written by the process itself (``funnel.core.request_minutes``); the page sums the
last hour. Read by minute: index on minute. Rows older than eight days are deleted hourly.
"""

import sqlalchemy as sa
from alembic import op

from funnel.core.models import UTCDateTime

revision = "0036_request_minutes"
down_revision = "0033_reconciliation_findings"
branch_labels = None
depends_on = None

BUCKETS = (
    "at_most_25_ms",
    "at_most_50_ms",
    "at_most_100_ms",
    "at_most_250_ms",
    "at_most_500_ms",
    "at_most_1000_ms",
    "at_most_2500_ms",
    "slower_ms",
)


def upgrade() -> None:
    op.create_table(
        "request_minutes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("minute", UTCDateTime(), nullable=False),
        sa.Column("process", sa.String(length=100), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("client_errors", sa.Integer(), nullable=False),
        sa.Column("server_errors", sa.Integer(), nullable=False),
        sa.Column("total_ms", sa.BigInteger(), nullable=False),
        *(sa.Column(bucket, sa.Integer(), nullable=False) for bucket in BUCKETS),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_minutes")),
    )
    op.create_index(op.f("ix_request_minutes_minute"), "request_minutes", ["minute"])


def downgrade() -> None:
    op.drop_index(op.f("ix_request_minutes_minute"), table_name="request_minutes")
    op.drop_table("request_minutes")
