"""Reconciliation findings: each gateway charge a reconciliation run found not matched.

Revision ID: 0033_reconciliation_findings
Revises: 0032_pending_jobs
Create Date: 2026-12-06

One row per (gateway, charge, kind), so a second run (or two racing) adds nothing; staff
resolve a row with a note of what they did. The staff list reads open rows first, newest
first: index on (resolved_at, found_at).
"""

import sqlalchemy as sa
from alembic import op

from funnel.core.models import UTCDateTime

revision = "0033_reconciliation_findings"
down_revision = "0032_pending_jobs"
branch_labels = None
depends_on = None

KINDS = ("paid", "refunded", "foreign", "unresolved", "missing_charge", "missing_refund")


def upgrade() -> None:
    op.create_table(
        "reconciliation_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gateway", sa.String(length=32), nullable=False),
        sa.Column("gateway_charge_id", sa.String(length=255), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*KINDS, name="findingkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("found_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_by_email", sa.String(length=254), nullable=True),
        sa.Column("action_note", sa.String(length=2000), nullable=True),
        sa.CheckConstraint(
            "kind IN ('paid', 'refunded', 'foreign', 'unresolved', 'missing_charge', "
            "'missing_refund')",
            name=op.f("ck_reconciliation_findings_kind"),
        ),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_reconciliation_findings_amount")),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["users.id"],
            name=op.f("fk_reconciliation_findings_resolved_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_findings")),
        sa.UniqueConstraint(
            "gateway",
            "gateway_charge_id",
            "kind",
            name=op.f("uq_reconciliation_findings_charge_kind"),
        ),
    )
    op.create_index(
        op.f("ix_reconciliation_findings_resolved_at_found_at"),
        "reconciliation_findings",
        ["resolved_at", "found_at"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_reconciliation_findings_resolved_at_found_at"),
        table_name="reconciliation_findings",
    )
    op.drop_table("reconciliation_findings")
