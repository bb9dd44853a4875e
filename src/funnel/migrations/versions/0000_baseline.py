"""Baseline: the empty schema every later migration starts from.

Revision ID: 0000_baseline
Revises:
Create Date: 2026-11-26
"""

revision = "0000_baseline"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to create: the domains' migrations follow."""


def downgrade() -> None:
    """Nothing to drop."""
