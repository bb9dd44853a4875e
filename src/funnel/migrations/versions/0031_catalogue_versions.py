"""Catalogue versions: a value that changes with every change of the catalogue.

Revision ID: 0031_catalogue_versions
Revises: 0030_feedback
Create Date: 2026-12-06

One row (id 1), written by the first catalogue change and then by every change, in the same
transaction: ``version`` is a new random number each time. Each worker keeps what it computed
from the catalogue (a listing's product and facet counts) under the version it read, so a
change shows on the next request of every worker. No row is seeded: until the first change the
version reads 0.
"""

import sqlalchemy as sa
from alembic import op

revision = "0031_catalogue_versions"
down_revision = "0030_feedback"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogue_versions",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_versions")),
    )


def downgrade() -> None:
    op.drop_table("catalogue_versions")
