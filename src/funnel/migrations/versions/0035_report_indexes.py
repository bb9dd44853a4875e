"""Report indexes: the reports over a long past read indexes alone.

- funnel_events (stage, occurred_at, visitor_id, product_id), in place of (stage, occurred_at):
  the funnel counts distinct visitors (and products) per stage over a range of days from the
  index alone, without looking up each event;
- orders (email, paid_at), in place of (email): the sales report finds each customer's first
  order paid with one index probe;
- payment_transactions (kind, status, created_at): the refunds made in a range of days.

Revision ID: 0035_report_indexes
Revises: 0033_reconciliation_findings
Create Date: 2026-12-06
"""

from alembic import op

revision = "0035_report_indexes"
down_revision = "0033_reconciliation_findings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_funnel_events_stage_occurred_at_visitor_id_product_id"),
        "funnel_events",
        ["stage", "occurred_at", "visitor_id", "product_id"],
    )
    op.drop_index(op.f("ix_funnel_events_stage_occurred_at"), table_name="funnel_events")
    op.create_index(op.f("ix_orders_email_paid_at"), "orders", ["email", "paid_at"])
    op.drop_index(op.f("ix_orders_email"), table_name="orders")
    op.create_index(
        op.f("ix_payment_transactions_kind_status_created_at"),
        "payment_transactions",
        ["kind", "status", "created_at"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_payment_transactions_kind_status_created_at"), table_name="payment_transactions"
    )
    op.create_index(op.f("ix_orders_email"), "orders", ["email"])
    op.drop_index(op.f("ix_orders_email_paid_at"), table_name="orders")
    op.create_index(
        op.f("ix_funnel_events_stage_occurred_at"), "funnel_events", ["stage", "occurred_at"]
    )
    op.drop_index(
        op.f("ix_funnel_events_stage_occurred_at_visitor_id_product_id"),
        table_name="funnel_events",
    )
