"""Who a stock reservation is for (``stock_reservations.owner``) and whose a checkout's holds
are (``checkouts.reservation_owner``): one client may hold at most its share of a variant.

Revision ID: 0010_reservation_owners
Revises: 0009_idempotency_keys
Create Date: 2026-12-04

Hand-written to match ``funnel.inventory.models.StockReservation`` and
``funnel.checkout.models.Checkout``; names follow ``funnel.core.models.NAMING_CONVENTION``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_reservation_owners"
down_revision = "0009_idempotency_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("stock_reservations", sa.Column("owner", sa.String(length=64), nullable=True))
    op.create_index(
        op.f("ix_stock_reservations_owner_variant_id"),
        "stock_reservations",
        ["owner", "variant_id"],
    )
    op.add_column("checkouts", sa.Column("reservation_owner", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("checkouts") as batch:
        batch.drop_column("reservation_owner")
    op.drop_index(op.f("ix_stock_reservations_owner_variant_id"), table_name="stock_reservations")
    with op.batch_alter_table("stock_reservations") as batch:
        batch.drop_column("owner")
