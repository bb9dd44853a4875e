"""Payment safety: when a payment was sent to its gateway, and one open checkout per cart.

Revision ID: 0011_payment_submissions
Revises: 0010_reservation_owners
Create Date: 2026-12-04

``payments.submitted_at`` is written, and committed, before the gateway is called: a payment
that has it but no gateway id may have taken money, and is settled by asking the gateway.

``checkouts.open_cart_id`` equals ``cart_id`` while the checkout is open and is NULL otherwise;
its unique constraint lets a cart have at most one open checkout on every database (NULLs never
collide). Where a cart already has several open checkouts, the newest keeps the cart.
"""

import sqlalchemy as sa
from alembic import op

from funnel.core.models import UTCDateTime

revision = "0011_payment_submissions"
down_revision = "0010_reservation_owners"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("submitted_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("checkouts") as batch:
        batch.add_column(sa.Column("open_cart_id", sa.Integer(), nullable=True))
    checkouts = sa.table(
        "checkouts",
        sa.column("id", sa.Integer()),
        sa.column("cart_id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("open_cart_id", sa.Integer()),
    )
    connection = op.get_bind()
    newest = connection.execute(
        sa.select(checkouts.c.cart_id, sa.func.max(checkouts.c.id))
        .where(checkouts.c.status == "open")
        .group_by(checkouts.c.cart_id)
    ).all()
    for cart_id, checkout_id in newest:
        connection.execute(
            sa.update(checkouts).where(checkouts.c.id == checkout_id).values(open_cart_id=cart_id)
        )
    with op.batch_alter_table("checkouts") as batch:
        batch.create_unique_constraint(op.f("uq_checkouts_open_cart_id"), ["open_cart_id"])


def downgrade() -> None:
    with op.batch_alter_table("checkouts") as batch:
        batch.drop_constraint(op.f("uq_checkouts_open_cart_id"), type_="unique")
        batch.drop_column("open_cart_id")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("submitted_at")
