"""Stripe's objects as the shop reads them: a PaymentIntent as an outcome or a charge, an
event as a ``GatewayEvent`` (its dispute included), and Stripe's decline codes as the payment
domain's failure codes. Plain functions of the JSON Stripe sends; the client is in ``stripe``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from funnel.core.money import Money
from funnel.payments.errors import WebhookPayloadInvalid
from funnel.payments.gateways.base import (
    GatewayCharge,
    GatewayDispute,
    GatewayEvent,
    GatewayOutcome,
    OutcomeStatus,
)

# Stripe's decline and error codes -> the payment domain's failure codes (results.py).
_FAILURE_CODES = {
    "card_declined": "payment_declined",
    "insufficient_funds": "insufficient_funds",
    "payment_intent_authentication_failure": "authentication_failed",
    "authentication_required": "authentication_failed",
}
_FAILURE_MESSAGES = {
    "payment_declined": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "authentication_failed": "The card check with your bank was not completed.",
}
# The events the shop subscribes to. The payment intent's own events carry its status; the
# charge's (refunds, disputes) are recorded against the payment and change no status here
# (refunds are recorded by the refund service under their own keys).
# ``amount_capturable_updated``: an intent to be captured later (the shop captures at
# fulfilment) was authorised, its status ``requires_capture``.
PAYMENT_INTENT_EVENTS = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.amount_capturable_updated",
    }
)
DISPUTE_CREATED = "charge.dispute.created"
CHARGE_EVENTS = frozenset({"charge.refunded", DISPUTE_CREATED})
EVENT_TYPES = PAYMENT_INTENT_EVENTS | CHARGE_EVENTS


def intent_status(intent: Mapping[str, Any]) -> OutcomeStatus:
    """A PaymentIntent's status as one of ours. An intent back at ``requires_payment_method``
    after an attempt (it has a ``last_payment_error``) failed; before any, it awaits the
    customer's card (``requires_action``)."""
    status = intent.get("status")
    if status == "succeeded":
        return OutcomeStatus.SUCCEEDED
    if status == "requires_capture":
        return OutcomeStatus.AUTHORIZED
    if status == "processing":
        return OutcomeStatus.PROCESSING
    if status == "canceled":
        return OutcomeStatus.CANCELLED
    if status == "requires_payment_method" and intent.get("last_payment_error"):
        return OutcomeStatus.FAILED
    if status in {"requires_payment_method", "requires_confirmation", "requires_action"}:
        return OutcomeStatus.REQUIRES_ACTION
    raise WebhookPayloadInvalid(f"Unknown payment intent status {str(status)[:40]!r}.")


def failure_of(error: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    if not error:
        return None, None
    stripe_code = error.get("decline_code") or error.get("code") or ""
    if stripe_code not in _FAILURE_CODES:
        stripe_code = error.get("code") or ""
    code = _FAILURE_CODES.get(stripe_code, "payment_failed")
    return code, _FAILURE_MESSAGES.get(code, "The payment did not go through.")


def _card(intent: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """Brand and last four digits, when the intent's charge is expanded (nothing else)."""
    charge = intent.get("latest_charge")
    if not isinstance(charge, Mapping):
        return None, None
    card = (charge.get("payment_method_details") or {}).get("card") or {}
    return card.get("brand"), card.get("last4")


def outcome_of(intent: Mapping[str, Any]) -> GatewayOutcome:
    status = intent_status(intent)
    failure_code, failure_message = None, None
    if status == OutcomeStatus.FAILED:
        failure_code, failure_message = failure_of(intent.get("last_payment_error"))
    next_action = intent.get("next_action") or {}
    redirect = next_action.get("redirect_to_url") or {}
    brand, last4 = _card(intent)
    return GatewayOutcome(
        status=status,
        gateway_payment_id=str(intent["id"]),
        next_action_url=redirect.get("url"),
        failure_code=failure_code,
        failure_message=failure_message,
        card_brand=brand,
        card_last4=last4,
    )


def charge_of(intent: Mapping[str, Any]) -> GatewayCharge:
    """A succeeded PaymentIntent as a charge: what it took (``amount_received``) and gave back."""
    currency = str(intent["currency"]).upper()
    return GatewayCharge(
        gateway_payment_id=str(intent["id"]),
        amount=Money(int(intent.get("amount_received") or 0), currency),
        refunded=Money(int(intent.get("amount_refunded") or 0), currency),
        created_at=datetime.fromtimestamp(int(intent["created"]), UTC),
        payment_public_id=(intent.get("metadata") or {}).get("payment_public_id"),
    )


def event_of(body: Mapping[str, Any]) -> GatewayEvent:
    """A verified event's body as the shop records it. Raises WebhookPayloadInvalid for a type
    the shop does not take, and ValueError, KeyError or TypeError for a malformed body."""
    event_type = _text(body["type"])
    if event_type not in EVENT_TYPES:
        raise WebhookPayloadInvalid(f"The shop does not take {event_type[:60]!r} events.")
    subject = body["data"]["object"]
    occurred_at = datetime.fromtimestamp(int(body["created"]), UTC)
    if event_type in PAYMENT_INTENT_EVENTS:
        outcome = outcome_of(subject)
        return GatewayEvent(
            event_id=_text(body["id"]),
            type=event_type,
            gateway_payment_id=_text(subject["id"]),
            payment_public_id=(subject.get("metadata") or {}).get("payment_public_id"),
            status=outcome.status,
            occurred_at=occurred_at,
            failure_code=outcome.failure_code,
            failure_message=outcome.failure_message,
        )
    return GatewayEvent(
        event_id=_text(body["id"]),
        type=event_type,
        gateway_payment_id=_text(subject["payment_intent"]),
        payment_public_id=None,
        status=None,
        occurred_at=occurred_at,
        dispute=_dispute(subject) if event_type == DISPUTE_CREATED else None,
    )


def _dispute(dispute: Mapping[str, Any]) -> GatewayDispute:
    """A Stripe dispute object as the shop records it (amount in the currency's minor units,
    as Stripe gives it; the evidence deadline when Stripe names one)."""
    due_by = (dispute.get("evidence_details") or {}).get("due_by")
    return GatewayDispute(
        dispute_id=_text(dispute["id"]),
        amount=Money(int(dispute["amount"]), _text(dispute["currency"]).upper()),
        reason=_text(dispute.get("reason") or "general").replace("_", " "),
        respond_by=datetime.fromtimestamp(int(due_by), UTC) if due_by else None,
    )


def _text(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 255:
        raise ValueError("expected a short string")
    return value
