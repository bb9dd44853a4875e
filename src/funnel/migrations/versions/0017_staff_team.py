"""The staff team: permission groups per staff member, and invitations to join.

Revision ID: 0017_staff_team
Revises: 0015_cod
Create Date: 2026-12-05

``users.permission_groups`` names a staff member's groups (comma-separated); NULL, as for every
existing account, keeps the staff role's default permissions, so nothing changes for the staff
a shop has today. ``staff_invitations`` holds single-use invitation links by their SHA-256.
"""

import sqlalchemy as sa
from alembic import op

from funnel.core.models import UTCDateTime

revision = "0017_staff_team"
down_revision = "0015_cod"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("permission_groups", sa.String(200), nullable=True))
    op.create_table(
        "staff_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("permission_groups", sa.String(200), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("accepted_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_staff_invitations_invited_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_invitations_token_hash")),
    )
    op.create_index(op.f("ix_staff_invitations_email"), "staff_invitations", ["email"])


def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB refuses to drop one a foreign key needs).
    op.drop_table("staff_invitations")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("permission_groups")
