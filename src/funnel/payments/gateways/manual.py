"""The offline gateways: ``manual`` (bank transfer) and ``cod`` (cash on delivery).

Nothing is charged online: the payment waits ``pending`` until staff record the funds
(``mark_manual_payment_received``): a bank transfer when it arrives, cash when the parcel is
delivered (the order ships before it is paid). Capture, void and refund succeed at once
(staff move the money themselves); there are no webhooks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from funnel.core.money import Money
from funnel.payments.errors import WebhookPayloadInvalid
from funnel.payments.gateways.base import (
    GatewayEvent,
    GatewayOutcome,
    OperationOutcome,
    OutcomeStatus,
    PaymentGateway,
    PaymentRequest,
)


def _reference(prefix: str, idempotency_key: str) -> str:
    # Derived from the key: the same key always names the same payment or operation.
    return f"{prefix}_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}"


class ManualGateway(PaymentGateway):
    name = "manual"
    label = "Bank transfer"

    def create_payment(self, request: PaymentRequest) -> GatewayOutcome:
        return GatewayOutcome(
            status=OutcomeStatus.PENDING,
            gateway_payment_id=_reference("man", request.idempotency_key),
        )

    def find_payment(self, idempotency_key: str) -> GatewayOutcome | None:
        # No remote side: the payment is what creating it would give (nothing is charged).
        return GatewayOutcome(
            status=OutcomeStatus.PENDING, gateway_payment_id=_reference("man", idempotency_key)
        )

    def confirm_action(self, gateway_payment_id: str) -> GatewayOutcome:
        return GatewayOutcome(status=OutcomeStatus.PENDING, gateway_payment_id=gateway_payment_id)

    def capture(
        self, gateway_payment_id: str, amount: Money, idempotency_key: str
    ) -> OperationOutcome:
        return OperationOutcome(True, _reference("mcap", idempotency_key))

    def void(self, gateway_payment_id: str, idempotency_key: str) -> OperationOutcome:
        return OperationOutcome(True, _reference("mvoid", idempotency_key))

    def refund(
        self, gateway_payment_id: str, amount: Money, idempotency_key: str
    ) -> OperationOutcome:
        return OperationOutcome(True, _reference("mref", idempotency_key))

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        raise WebhookPayloadInvalid(f"The {self.name} gateway sends no webhooks.")


class CashOnDeliveryGateway(ManualGateway):
    """Cash paid to the carrier: pending until staff mark the order delivered."""

    name = "cod"
    label = "Cash on delivery"
