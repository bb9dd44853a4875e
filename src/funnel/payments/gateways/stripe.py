"""The ``stripe`` gateway: card payments through Stripe's PaymentIntents, with the official client.

One PaymentIntent per payment, created with our own idempotency key as Stripe's
``Idempotency-Key`` (a retry after a lost answer returns the same intent, never a second one),
the amount in minor units and the currency from our totals, and our ids in its metadata. The
card never reaches the shop: the customer's browser confirms the intent with Stripe's Payment
Element, and the outcome comes back by the return URL (``confirm_action``) and by a signed
webhook, whichever is first (the payments state machine changes the payment once).

Capture, void (cancel) and refunds carry their own idempotency keys. Stripe's errors become the
payment domain's: a declined card a failed outcome with a stable code; network errors, rate
limits, Stripe's own outages and a wrong API key ``GatewayUnavailable`` (retry with the same key).
Nothing here logs a request's parameters or a card's details.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

import stripe as stripe_api

from funnel.core.money import Money
from funnel.payments.errors import (
    GatewayUnavailable,
    PaymentIdempotencyKeyReused,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
)
from funnel.payments.gateways import signatures
from funnel.payments.gateways.base import (
    BrowserConfirmation,
    GatewayCharge,
    GatewayEvent,
    GatewayOutcome,
    OperationOutcome,
    OutcomeStatus,
    PaymentGateway,
    PaymentRequest,
)
from funnel.payments.gateways.stripe_objects import (
    charge_of,
    event_of,
    failure_of,
    intent_status,
    outcome_of,
)

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Stripe-Signature"
WEBHOOK_PATH = "/webhooks/stripe"
# Our idempotency key, also kept in the intent's metadata: find_payment searches by it.
KEY_METADATA = "funnel_idempotency_key"
# Stripe.js is loaded from Stripe (its terms forbid a copy): the one script from the network,
# on the card page only, where the page's Content-Security-Policy allows these sources.
SCRIPT_URL = "https://js.stripe.com/v3/"
POLICY_SOURCES: Mapping[str, tuple[str, ...]] = {
    "script-src": ("https://js.stripe.com", "https://*.js.stripe.com"),
    "frame-src": ("https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"),
    "connect-src": ("https://api.stripe.com",),
}
TIMEOUT_SECONDS = 15
NETWORK_RETRIES = 2
# Stripe's largest page of a list.
PAGE_SIZE = 100


class StripeGateway(PaymentGateway):
    """The client of Stripe's API (its name in settings and URLs is ``stripe``)."""

    name = "stripe"
    label = "Card"
    takes_card_details = False  # the browser hands the card to Stripe, never to the shop
    lists_charges = True
    captures_later = True  # a PaymentIntent with capture_method manual

    def __init__(
        self,
        secret_key: str,
        webhook_secret: str,
        *,
        publishable_key: str = "",
        api_base: str | None = None,
        timeout_seconds: float = TIMEOUT_SECONDS,
        network_retries: int = NETWORK_RETRIES,
    ) -> None:
        self.webhook_secret = webhook_secret
        self.publishable_key = publishable_key
        self.client = stripe_api.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=network_retries,
            http_client=stripe_api.RequestsClient(timeout=timeout_seconds),
        )

    # -- payments ---------------------------------------------------------------------------

    def create_payment(self, request: PaymentRequest) -> GatewayOutcome:
        # request.payment_method is never sent: Stripe collects the card itself.
        params: dict[str, Any] = {
            "amount": request.amount.amount,
            "currency": request.amount.currency.lower(),
            "capture_method": "manual" if request.capture_method == "manual" else "automatic",
            "automatic_payment_methods": {"enabled": True},
            "metadata": {**request.metadata, KEY_METADATA: request.idempotency_key},
        }
        if request.description:
            params["description"] = request.description[:1000]
        try:
            intent = self._call(
                "create",
                lambda: self.client.v1.payment_intents.create(
                    params,  # type: ignore[arg-type]
                    options={"idempotency_key": request.idempotency_key},
                ),
            )
        except _Refused as refused:
            return GatewayOutcome(
                status=OutcomeStatus.FAILED,
                gateway_payment_id=refused.intent_id or f"refused:{request.idempotency_key}",
                failure_code=refused.code,
                failure_message=refused.message,
            )
        return outcome_of(intent)

    def find_payment(self, idempotency_key: str) -> GatewayOutcome | None:
        # Stripe's search can lag a minute behind a new intent. None then leads the caller to
        # create it again under the same key, which Stripe answers with the same intent.
        query = f"metadata['{KEY_METADATA}']:'{_quoted(idempotency_key)}'"
        found = self._call(
            "find", lambda: self.client.v1.payment_intents.search({"query": query, "limit": 1})
        )
        data = found.get("data") or []
        return outcome_of(data[0]) if data else None

    def list_charges(self, since: datetime) -> list[GatewayCharge]:
        # Stripe lists intents newest first, a page at a time; it cannot filter by status.
        params: dict[str, Any] = {"created": {"gte": int(since.timestamp())}, "limit": PAGE_SIZE}
        charges: list[GatewayCharge] = []
        while True:
            page = self._call("list", partial(self.client.v1.payment_intents.list, dict(params)))
            intents = page.get("data") or []
            charges.extend(charge_of(i) for i in intents if i.get("status") == "succeeded")
            if not page.get("has_more") or not intents:
                return charges
            params["starting_after"] = intents[-1]["id"]

    def confirm_action(self, gateway_payment_id: str) -> GatewayOutcome:
        # With its charge expanded: the card's brand and last four digits, for staff and the
        # customer's order page (nothing more of the card is read).
        intent = self._call(
            "retrieve",
            lambda: self.client.v1.payment_intents.retrieve(
                gateway_payment_id, {"expand": ["latest_charge"]}
            ),
        )
        return outcome_of(intent)

    def browser_confirmation(self, gateway_payment_id: str) -> BrowserConfirmation | None:
        # The client secret is asked for each time the page is shown, never stored.
        intent = self._call(
            "retrieve", lambda: self.client.v1.payment_intents.retrieve(gateway_payment_id)
        )
        if intent_status(intent) != OutcomeStatus.REQUIRES_ACTION or not intent.get(
            "client_secret"
        ):
            return None
        return BrowserConfirmation(
            script_url=SCRIPT_URL,
            publishable_key=self.publishable_key,
            client_secret=str(intent["client_secret"]),
            policy_sources=POLICY_SOURCES,
        )

    def capture(
        self, gateway_payment_id: str, amount: Money, idempotency_key: str
    ) -> OperationOutcome:
        return self._operate(
            "capture",
            lambda: self.client.v1.payment_intents.capture(
                gateway_payment_id,
                {"amount_to_capture": amount.amount},
                options={"idempotency_key": idempotency_key},
            ),
        )

    def void(self, gateway_payment_id: str, idempotency_key: str) -> OperationOutcome:
        return self._operate(
            "cancel",
            lambda: self.client.v1.payment_intents.cancel(
                gateway_payment_id, options={"idempotency_key": idempotency_key}
            ),
        )

    def refund(
        self, gateway_payment_id: str, amount: Money, idempotency_key: str
    ) -> OperationOutcome:
        return self._operate(
            "refund",
            lambda: self.client.v1.refunds.create(
                {"payment_intent": gateway_payment_id, "amount": amount.amount},
                options={"idempotency_key": idempotency_key},
            ),
        )

    # -- webhooks ---------------------------------------------------------------------------

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        header = signatures.header_value(headers, SIGNATURE_HEADER)
        try:
            stripe_api.WebhookSignature.verify_header(
                raw_body, header, self.webhook_secret, signatures.TOLERANCE_SECONDS
            )
        except (stripe_api.SignatureVerificationError, ValueError) as error:
            raise WebhookSignatureInvalid("The Stripe signature is not valid.") from error
        try:
            return event_of(json.loads(raw_body))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise WebhookPayloadInvalid() from error

    # -- helpers ----------------------------------------------------------------------------

    def _operate(self, operation: str, call: Callable[[], Any]) -> OperationOutcome:
        try:
            result = self._call(operation, call)
        except _Refused as refused:
            return OperationOutcome(
                is_successful=False,
                gateway_reference="",
                failure_code=refused.code,
                failure_message=refused.message,
            )
        status = result.get("status")
        if operation == "refund" and status in {"failed", "canceled"}:
            return OperationOutcome(False, str(result["id"]), "refund_failed", "Refused.")
        return OperationOutcome(True, str(result["id"]))

    def _call(self, operation: str, call: Callable[[], Any]) -> dict[str, Any]:
        """Run one API call and return its object as plain data; map Stripe's errors to ours
        (never logging its parameters)."""
        try:
            return call().to_dict()
        except stripe_api.IdempotencyError as error:
            raise PaymentIdempotencyKeyReused() from error
        except stripe_api.CardError as error:
            details = error.error.to_dict() if error.error else {}
            code, message = failure_of(details or {"code": error.code})
            intent = details.get("payment_intent") or {}
            raise _Refused(
                code or "payment_failed", message or "Refused.", intent.get("id")
            ) from error
        except stripe_api.InvalidRequestError as error:
            if operation in {"capture", "cancel", "refund"}:
                log.warning("stripe %s refused: %s", operation, error.code)
                raise _Refused(error.code or "invalid_request", error.user_message or "") from error
            log.error("stripe %s: invalid request (%s)", operation, error.code)
            raise GatewayUnavailable() from error
        except (
            stripe_api.APIConnectionError,
            stripe_api.RateLimitError,
            stripe_api.AuthenticationError,
            stripe_api.PermissionError,
            stripe_api.APIError,
        ) as error:
            log.warning("stripe %s failed: %s", operation, type(error).__name__)
            raise GatewayUnavailable() from error
        except stripe_api.StripeError as error:
            log.warning("stripe %s failed: %s", operation, type(error).__name__)
            raise GatewayUnavailable() from error


class _Refused(Exception):
    """Stripe refused an operation (a card declined, a refund larger than the charge)."""

    def __init__(self, code: str, message: str, intent_id: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.intent_id = intent_id


def _quoted(value: str) -> str:
    # Stripe's search language quotes with ' and escapes it with a backslash.
    return value.replace("\\", "\\\\").replace("'", "\\'")
