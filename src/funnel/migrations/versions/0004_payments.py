"""Payments: payments, their transactions, status events and webhook events; and the test
gateway's own records (``test_gateway_*``: the pretend remote service's side).

Revision ID: 0004_payments
Revises: 0003_inventory_analytics
Create Date: 2026-11-27

Hand-checked to match ``funnel.payments.models`` and ``funnel.payments.gateways.test.sandbox`` on
SQLite, PostgreSQL and MariaDB; names follow ``funnel.core.models.NAMING_CONVENTION``. No
foreign key leaves the payments domain: a payment knows what it pays for only by an opaque
reference, and an actor by a plain user id (the accounts tables are on another branch).
"""

import sqlalchemy as sa
from alembic import op

from funnel.core.models import UTCDateTime

revision = "0004_payments"
down_revision = "0003_inventory_analytics"
branch_labels = None
depends_on = None

PAYMENT_STATUSES = (
    "pending",
    "requires_action",
    "processing",
    "authorized",
    "succeeded",
    "failed",
    "cancelled",
    "partially_refunded",
    "refunded",
)
PAYMENT_STATUS_CHECK = "status IN (" + ", ".join(f"'{status}'" for status in PAYMENT_STATUSES) + ")"
TABLES = (
    "webhook_events",
    "test_gateway_webhooks",
    "test_gateway_operations",
    "payment_transactions",
    "payment_events",
    "test_gateway_charges",
    "payments",
)


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("payable_reference", sa.String(length=64), nullable=False),
        sa.Column("active_payable_reference", sa.String(length=64), nullable=True),
        sa.Column("gateway", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "requires_action",
                "processing",
                "authorized",
                "succeeded",
                "failed",
                "cancelled",
                "partially_refunded",
                "refunded",
                name="paymentstatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("capture_method", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("return_url", sa.String(length=2000), nullable=False),
        sa.Column("gateway_payment_id", sa.String(length=255), nullable=True),
        sa.Column("next_action_url", sa.String(length=2000), nullable=True),
        sa.Column("card_brand", sa.String(length=20), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.Column("failure_message", sa.String(length=255), nullable=True),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("refund_pending_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "capture_method IN ('automatic', 'manual')", name=op.f("ck_payments_capture_method")
        ),
        sa.CheckConstraint(
            PAYMENT_STATUS_CHECK,
            name=op.f("ck_payments_status"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint(
            "refund_pending_minor >= 0", name=op.f("ck_payments_refund_pending_non_negative")
        ),
        sa.CheckConstraint(
            "refunded_minor + refund_pending_minor <= amount_minor",
            name=op.f("ck_payments_refunds_within_amount"),
        ),
        sa.CheckConstraint("refunded_minor >= 0", name=op.f("ck_payments_refunded_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint(
            "active_payable_reference", name=op.f("uq_payments_active_payable_reference")
        ),
        sa.UniqueConstraint(
            "gateway", "gateway_payment_id", name=op.f("uq_payments_gateway_gateway_payment_id")
        ),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payments_idempotency_key")),
        sa.UniqueConstraint("public_id", name=op.f("uq_payments_public_id")),
    )
    op.create_index(
        op.f("ix_payments_gateway_status_created_at"),
        "payments",
        ["gateway", "status", "created_at"],
    )
    op.create_index(
        op.f("ix_payments_payable_reference_created_at"),
        "payments",
        ["payable_reference", "created_at"],
    )

    op.create_table(
        "test_gateway_charges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gateway_payment_id", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("capture_method", sa.String(length=16), nullable=False),
        sa.Column("card_brand", sa.String(length=20), nullable=False),
        sa.Column("card_last4", sa.String(length=4), nullable=False),
        sa.Column("challenge_token", sa.String(length=64), nullable=True),
        sa.Column("return_url", sa.String(length=2000), nullable=False),
        sa.Column("payment_public_id", sa.String(length=32), nullable=True),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.Column("failure_message", sa.String(length=255), nullable=True),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("settles_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_gateway_charges")),
        sa.UniqueConstraint(
            "challenge_token", name=op.f("uq_test_gateway_charges_challenge_token")
        ),
        sa.UniqueConstraint(
            "gateway_payment_id", name=op.f("uq_test_gateway_charges_gateway_payment_id")
        ),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_test_gateway_charges_idempotency_key")
        ),
    )
    op.create_table(
        "payment_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_events_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
    )
    op.create_index(op.f("ix_payment_events_payment_id_id"), "payment_events", ["payment_id", "id"])

    op.create_table(
        "payment_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "charge",
                "capture",
                "void",
                "refund",
                name="transactionkind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "succeeded",
                "failed",
                name="transactionstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("idempotency_key", sa.String(length=220), nullable=False),
        sa.Column("gateway_reference", sa.String(length=255), nullable=True),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('charge', 'capture', 'void', 'refund')",
            name=op.f("ck_payment_transactions_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed')",
            name=op.f("ck_payment_transactions_status"),
        ),
        sa.CheckConstraint(
            "amount_minor >= 0", name=op.f("ck_payment_transactions_amount_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_payment_transactions_payment_id_payments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_transactions")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_payment_transactions_idempotency_key")
        ),
    )
    op.create_index(
        op.f("ix_payment_transactions_payment_id_created_at"),
        "payment_transactions",
        ["payment_id", "created_at"],
    )

    op.create_table(
        "test_gateway_operations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("charge_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=220), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("is_successful", sa.Boolean(), nullable=False),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_id"],
            ["test_gateway_charges.id"],
            name=op.f("fk_test_gateway_operations_charge_id_test_gateway_charges"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_gateway_operations")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_test_gateway_operations_idempotency_key")
        ),
        sa.UniqueConstraint("reference", name=op.f("uq_test_gateway_operations_reference")),
    )
    op.create_index(
        op.f("ix_test_gateway_operations_charge_id"), "test_gateway_operations", ["charge_id"]
    )

    op.create_table(
        "test_gateway_webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("charge_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["charge_id"],
            ["test_gateway_charges.id"],
            name=op.f("fk_test_gateway_webhooks_charge_id_test_gateway_charges"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_gateway_webhooks")),
        sa.UniqueConstraint("event_id", name=op.f("uq_test_gateway_webhooks_event_id")),
    )
    op.create_index(
        op.f("ix_test_gateway_webhooks_charge_id"), "test_gateway_webhooks", ["charge_id"]
    )
    op.create_index(op.f("ix_test_gateway_webhooks_due_at"), "test_gateway_webhooks", ["due_at"])

    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gateway", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_webhook_events_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        sa.UniqueConstraint("gateway", "event_id", name=op.f("uq_webhook_events_gateway_event_id")),
    )
    op.create_index(op.f("ix_webhook_events_payment_id"), "webhook_events", ["payment_id"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
