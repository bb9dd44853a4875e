"""Idempotency keys of API operations: the request's fingerprint, then its response.

Revision ID: 0009_idempotency_keys
Revises: 0008_api_tokens
Create Date: 2026-11-27

Hand-written to match ``funnel.core.idempotency.IdempotencyRecord``; names follow
``funnel.core.models.NAMING_CONVENTION``.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from funnel.core.models import UTCDateTime

revision = "0009_idempotency_keys"
down_revision = "0008_api_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_headers", sa.Text(), nullable=True),
        sa.Column(
            "response_body",
            sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"),
            nullable=True,
        ),
        sa.Column("locked_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint(
            "scope", "idempotency_key", name=op.f("uq_idempotency_keys_scope_idempotency_key")
        ),
    )
    op.create_index(op.f("ix_idempotency_keys_created_at"), "idempotency_keys", ["created_at"])


def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB refuses to drop one a foreign key needs).
    op.drop_table("idempotency_keys")
