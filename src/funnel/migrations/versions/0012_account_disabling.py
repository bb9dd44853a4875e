"""Accounts staff can disable: ``users.disabled_at``.

Revision ID: 0012_account_disabling
Revises: 0011_payment_submissions
Create Date: 2026-12-05

A disabled account cannot sign in, its sessions and API tokens are ended when it is disabled,
and a token or session cookie kept from before is refused. NULL: the account is enabled.
"""

import sqlalchemy as sa
from alembic import op

from funnel.core.models import UTCDateTime

revision = "0012_account_disabling"
down_revision = "0011_payment_submissions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("disabled_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled_at")
