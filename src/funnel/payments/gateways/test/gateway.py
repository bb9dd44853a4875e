"""The ``test`` gateway: offline, for development and tests, behaving like a real service.

Its remote records live in ``sandbox.py``; it answers by card number:

============================  =====================================================
4242 4242 4242 4242           succeeds
4000 0000 0000 0002           declined ("Your card was declined.")
4000 0000 0000 9995           insufficient funds
4000 0000 0000 3220           requires a 3-D Secure step (approve or refuse)
4000 0000 0000 0259           stays ``processing``; succeeds later by a signed webhook
4000 0000 0000 0077           succeeds, but the answer is lost: the card is charged, then
                              the call hangs for ``LOST_ANSWER_SECONDS`` (the server's
                              timeout ends the request first), as over a broken network
any other valid number        succeeds, with its brand detected
============================  =====================================================

Card details are checked (Luhn, expiry in the future, CVC), used for this one call and dropped:
only brand and last four digits are kept, here and by the shop.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from funnel.core import clock
from funnel.core.money import Money
from funnel.payments.errors import (
    GatewayUnavailable,
    InvalidCard,
    WebhookPayloadInvalid,
)
from funnel.payments.gateways import signatures
from funnel.payments.gateways.base import (
    GatewayCharge,
    GatewayEvent,
    GatewayOutcome,
    OperationOutcome,
    OutcomeStatus,
    PaymentGateway,
    PaymentRequest,
)
from funnel.payments.gateways.cards import check_card
from funnel.payments.gateways.test import sandbox

SIGNATURE_HEADER = "Test-Gateway-Signature"
CHALLENGE_PATH = "/payments/test/challenge/"
WEBHOOK_PATH = "/webhooks/test"

CARD_SUCCEEDS = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_INSUFFICIENT_FUNDS = "4000000000009995"
CARD_REQUIRES_ACTION = "4000000000003220"
CARD_PROCESSING = "4000000000000259"
CARD_ANSWER_LOST = "4000000000000077"
TEST_CARDS = (
    CARD_SUCCEEDS,
    CARD_DECLINED,
    CARD_INSUFFICIENT_FUNDS,
    CARD_REQUIRES_ACTION,
    CARD_PROCESSING,
    CARD_ANSWER_LOST,
)
LOST_ANSWER_SECONDS = 600


@dataclass(frozen=True)
class TestCard:
    """A card the test gateway answers in its own way, and what it does (the pay page and
    the API guide list these, so that they cannot drift from the gateway)."""

    __test__ = False  # not a pytest test class

    number: str
    outcome: str

    @property
    def spaced_number(self) -> str:
        """``4242 4242 4242 4242``: as people type it."""
        return " ".join(self.number[index : index + 4] for index in range(0, 16, 4))


# Every card of TEST_CARDS, in its order, with what it does.
TEST_CARD_OUTCOMES = (
    TestCard(CARD_SUCCEEDS, "Succeeds"),
    TestCard(CARD_DECLINED, "Is declined"),
    TestCard(CARD_INSUFFICIENT_FUNDS, "Is declined for insufficient funds"),
    TestCard(CARD_REQUIRES_ACTION, "Asks for 3-D Secure (approve or refuse)"),
    TestCard(CARD_PROCESSING, "Stays processing, then succeeds a few seconds later"),
    TestCard(CARD_ANSWER_LOST, "Is charged, but the answer is lost (the request times out)"),
)

_FAILURES = {CARD_DECLINED: sandbox.DECLINED, CARD_INSUFFICIENT_FUNDS: sandbox.INSUFFICIENT_FUNDS}


def derive_webhook_secret(secret_key: str) -> str:
    """The development webhook secret: derived from the app's secret key, stable across runs."""
    purpose = b"funnel test gateway webhooks"
    return hmac.new(secret_key.encode(), purpose, hashlib.sha256).hexdigest()


class SandboxGateway(PaymentGateway):
    """The client of the pretend service (its name in settings and URLs is ``test``)."""

    __test__ = False  # not a pytest test class
    name = "test"
    label = "Card (test gateway)"
    takes_card_details = True
    lists_charges = True
    captures_later = True

    def __init__(
        self,
        webhook_secret: str,
        base_url: str,
        settle_seconds: int = 5,
        latency_seconds: float = 0.0,
    ) -> None:
        self.webhook_secret = webhook_secret
        self.base_url = base_url.rstrip("/")
        self.settle_seconds = settle_seconds
        self.latency_seconds = latency_seconds

    # -- payments ---------------------------------------------------------------------------

    def create_payment(self, request: PaymentRequest) -> GatewayOutcome:
        if self.latency_seconds > 0:
            time.sleep(self.latency_seconds)  # a remote gateway's round trip, simulated
        existing = sandbox.charge_by_key(request.idempotency_key)
        if existing is not None:
            return self._outcome(existing)
        method = request.payment_method
        if method is None:
            raise InvalidCard(fields={"card_number": ["Enter the card number."]})
        card = check_card(method.number, method.expiry, method.cvc, clock.utcnow().date())
        failure = _FAILURES.get(card.digits)
        manual = request.capture_method == "manual"
        if failure:
            status = OutcomeStatus.FAILED
        elif card.digits == CARD_REQUIRES_ACTION:
            status = OutcomeStatus.REQUIRES_ACTION
        elif card.digits == CARD_PROCESSING:
            status = OutcomeStatus.PROCESSING
        else:
            status = OutcomeStatus.AUTHORIZED if manual else OutcomeStatus.SUCCEEDED
        charge = sandbox.create_charge(
            sandbox.NewCharge(
                idempotency_key=request.idempotency_key,
                amount_minor=request.amount.amount,
                currency=request.amount.currency,
                description=request.description[:255],
                status=status,
                capture_method=request.capture_method,
                card_brand=card.brand,
                card_last4=card.last4,
                return_url=request.return_url,
                payment_public_id=request.metadata.get("payment_public_id"),
                failure=failure,
                settle_after_seconds=(
                    self.settle_seconds if status == OutcomeStatus.PROCESSING else None
                ),
            )
        )
        if card.digits == CARD_ANSWER_LOST:
            time.sleep(LOST_ANSWER_SECONDS)  # charged; the answer never makes it back in time
        return self._outcome(charge)

    def find_payment(self, idempotency_key: str) -> GatewayOutcome | None:
        if self.latency_seconds > 0:
            time.sleep(self.latency_seconds)
        charge = sandbox.charge_by_key(idempotency_key)
        return None if charge is None else self._outcome(charge)

    def list_charges(self, since: datetime) -> list[GatewayCharge]:
        return [
            GatewayCharge(
                gateway_payment_id=charge.gateway_payment_id,
                amount=Money(charge.amount_minor, charge.currency),
                refunded=Money(charge.refunded_minor, charge.currency),
                created_at=charge.created_at,
                payment_public_id=charge.payment_public_id,
            )
            for charge in sandbox.succeeded_charges(since)
        ]

    def confirm_action(self, gateway_payment_id: str) -> GatewayOutcome:
        return self._outcome(self._charge(gateway_payment_id))

    def capture(
        self, gateway_payment_id: str, amount: Money, idempotency_key: str
    ) -> OperationOutcome:
        return self._operate(gateway_payment_id, "capture", amount.amount, idempotency_key)

    def void(self, gateway_payment_id: str, idempotency_key: str) -> OperationOutcome:
        return self._operate(gateway_payment_id, "void", 0, idempotency_key)

    def refund(
        self, gateway_payment_id: str, amount: Money, idempotency_key: str
    ) -> OperationOutcome:
        return self._operate(gateway_payment_id, "refund", amount.amount, idempotency_key)

    # -- webhooks ---------------------------------------------------------------------------

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        header = signatures.header_value(headers, SIGNATURE_HEADER)
        signatures.verify_signature(raw_body, header, self.webhook_secret)
        try:
            body = json.loads(raw_body)
            payment = body["data"]["payment"]
            status = OutcomeStatus(payment["status"])
            return GatewayEvent(
                event_id=_text(body["id"]),
                type=_text(body["type"]),
                gateway_payment_id=_text(payment["id"]),
                payment_public_id=(payment.get("metadata") or {}).get("payment_public_id"),
                status=status,
                occurred_at=datetime.fromtimestamp(int(body["created"]), UTC),
                failure_code=payment.get("failure_code"),
                failure_message=payment.get("failure_message"),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise WebhookPayloadInvalid() from error

    def signed_webhook(
        self, body: str, timestamp: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The raw body and headers of a delivery of ``body``, signed now (or at ``timestamp``)."""
        raw = body.encode("utf-8")
        header = signatures.signature_header(raw, self.webhook_secret, timestamp)
        return raw, {"Content-Type": "application/json", SIGNATURE_HEADER: header}

    # -- helpers ----------------------------------------------------------------------------

    def _charge(self, gateway_payment_id: str) -> sandbox.SandboxCharge:
        charge = sandbox.charge_by_id(gateway_payment_id)
        if charge is None:
            raise GatewayUnavailable("The test gateway has no such payment.")
        return charge

    def _operate(
        self, gateway_payment_id: str, kind: str, amount_minor: int, idempotency_key: str
    ) -> OperationOutcome:
        charge = self._charge(gateway_payment_id)
        operation = sandbox.record_operation(charge, kind, amount_minor, idempotency_key)
        return OperationOutcome(
            is_successful=operation.is_successful,
            gateway_reference=operation.reference,
            failure_code=operation.failure_code,
            failure_message=None if operation.is_successful else "The gateway refused it.",
        )

    def _outcome(self, charge: sandbox.SandboxCharge) -> GatewayOutcome:
        status = OutcomeStatus(charge.status)
        next_action_url = None
        if status == OutcomeStatus.REQUIRES_ACTION and charge.challenge_token:
            next_action_url = f"{self.base_url}{CHALLENGE_PATH}{charge.challenge_token}"
        return GatewayOutcome(
            status=status,
            gateway_payment_id=charge.gateway_payment_id,
            next_action_url=next_action_url,
            failure_code=charge.failure_code,
            failure_message=charge.failure_message,
            card_brand=charge.card_brand,
            card_last4=charge.card_last4,
        )


def _text(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 255:
        raise ValueError("expected a short string")
    return value
