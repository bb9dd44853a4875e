"""Feedback: what shoppers send from the storefront's "Send feedback" link.

Revision ID: 0030_feedback
Revises: 0029_return_requests
Create Date: 2026-12-06

A ``feedback`` row is one message (up to 2,000 characters), the optional email to answer to,
the storefront path it was sent from (no query string), the signed-in shopper if any, when it
came, and what staff did: handled (when, by whom) and the reply sent by email (its text, when,
by whom). The inbox reads open or handled items newest first: index (handled_at, created_at).
"""

import sqlalchemy as sa
from alembic import op

from funnel.core.models import UTCDateTime

revision = "0030_feedback"
down_revision = "0029_return_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=2000), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("page_path", sa.String(length=200), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("handled_at", UTCDateTime(), nullable=True),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("reply", sa.String(length=2000), nullable=True),
        sa.Column("replied_at", UTCDateTime(), nullable=True),
        sa.Column("replied_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_feedback_user_id_users")),
        sa.ForeignKeyConstraint(
            ["handled_by_id"], ["users.id"], name=op.f("fk_feedback_handled_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["replied_by_id"], ["users.id"], name=op.f("fk_feedback_replied_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    op.create_index(
        op.f("ix_feedback_handled_at_created_at"), "feedback", ["handled_at", "created_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_feedback_handled_at_created_at"), table_name="feedback")
    op.drop_table("feedback")
