"""Small helpers for the payments tests."""

from __future__ import annotations

from funnel.payments import queries
from funnel.payments.gateways import get_gateway
from funnel.payments.gateways.test import sandbox
from funnel.payments.gateways.test.gateway import SandboxGateway


def status_changes(payment_id: int) -> list[tuple[str | None, str]]:
    return [(event.from_status, event.to_status) for event in queries.payment_history(payment_id)]


def sandbox_gateway() -> SandboxGateway:
    gateway = get_gateway("test")
    assert isinstance(gateway, SandboxGateway)
    return gateway


def signed_event_for(
    payment_id: int, index: int = -1, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The signed delivery of the ``index``-th webhook the test gateway owes for a payment."""
    payment = queries.get_payment(payment_id)
    webhook = sandbox.webhooks_for(payment.gateway_payment_id)[index]
    return sandbox_gateway().signed_webhook(webhook.body, timestamp)
