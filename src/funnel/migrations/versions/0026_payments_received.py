"""Bank transfers received in parts: what a payment has received so far, and the day each
receipt arrived.

``payments.received_minor`` is the sum staff have recorded against an offline payment (a bank
transfer may arrive in parts; the payment succeeds when it reaches the amount); payments that
took their money already count it all. ``payment_transactions.received_on`` is the day the
funds arrived, as staff read it on the bank statement.

Revision ID: 0026_payments_received
Revises: 0024_failed_payments
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0026_payments_received"
down_revision = "0024_failed_payments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(
            sa.Column("received_minor", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE payments SET received_minor = amount_minor "
        "WHERE status IN ('succeeded', 'partially_refunded', 'refunded')"
    )
    with op.batch_alter_table("payments") as batch:
        batch.create_check_constraint(
            op.f("ck_payments_received_within_amount"),
            "received_minor >= 0 AND received_minor <= amount_minor",
        )
    with op.batch_alter_table("payment_transactions") as batch:
        batch.add_column(sa.Column("received_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payment_transactions") as batch:
        batch.drop_column("received_on")
    with op.batch_alter_table("payments") as batch:
        batch.drop_constraint(op.f("ck_payments_received_within_amount"), type_="check")
        batch.drop_column("received_minor")
