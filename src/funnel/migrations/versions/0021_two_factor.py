"""Two-factor sign-in: authenticator secrets, recovery codes, and sessions awaiting a code.

Revision ID: 0021_two_factor
Revises: 0014_shipments
Create Date: 2026-12-05

``two_factor_credentials`` holds an account's TOTP secret (confirmed or still being set up) and
the time step of the last code accepted; ``recovery_codes`` holds single-use codes by their
SHA-256. ``user_sessions.second_step_expires_at`` marks a row that is not a session yet (the
password was right, a code is still owed); NULL, as for every existing row, is a full session,
so nobody signed in today is signed out.
"""

import sqlalchemy as sa
from alembic import op

from funnel.core.models import UTCDateTime

revision = "0021_two_factor"
down_revision = "0014_shipments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_sessions") as batch:
        batch.add_column(sa.Column("second_step_expires_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("failed_codes", sa.Integer(), nullable=True))
    op.create_table(
        "two_factor_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("last_used_step", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_two_factor_credentials_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_two_factor_credentials")),
        sa.UniqueConstraint("user_id", name=op.f("uq_two_factor_credentials_user_id")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_recovery_codes_code_hash")),
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"])


def downgrade() -> None:
    # Dropping the table drops its indexes. MariaDB refuses to drop the user_id index on its
    # own: its foreign key needs it.
    op.drop_table("recovery_codes")
    op.drop_table("two_factor_credentials")
    with op.batch_alter_table("user_sessions") as batch:
        batch.drop_column("failed_codes")
        batch.drop_column("second_step_expires_at")
