"""The audit log: one row per staff change (who, when, from which address, what, before, after).

Revision ID: 0020_audit_log
Revises: 0021_two_factor
Create Date: 2026-12-05

``audit_entries`` starts empty: changes made before it existed keep their own histories (the
orders' events, the stock ledger, the settings' changes).
"""

import sqlalchemy as sa
from alembic import op

from funnel.core.models import UTCDateTime

revision = "0020_audit_log"
down_revision = "0021_two_factor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("client_address", sa.String(45), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(32), nullable=False),
        sa.Column("object_id", sa.String(64), nullable=False),
        sa.Column("object_label", sa.String(200), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    op.create_index(op.f("ix_audit_entries_occurred_at"), "audit_entries", ["occurred_at"])
    op.create_index(
        op.f("ix_audit_entries_actor_user_id_occurred_at"),
        "audit_entries",
        ["actor_user_id", "occurred_at"],
    )
    op.create_index(
        op.f("ix_audit_entries_object_type_object_id"),
        "audit_entries",
        ["object_type", "object_id"],
    )


def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB refuses to drop one a foreign key needs).
    op.drop_table("audit_entries")
