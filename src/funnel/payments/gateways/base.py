"""The gateway interface, shaped for asynchronous payment flows as real gateways are.

A gateway is the client of a remote payment service. It never touches our ``payments`` tables:
the payments services call it outside any database transaction (a network call must not hold
row locks) and record what it answers. Every call that moves money carries our own idempotency
key, so that a retry after a timeout returns the first answer instead of charging twice.

``create_payment`` answers one of the ``OutcomeStatus`` values:

- ``succeeded``: the money is taken (or, with ``capture_method="manual"``, ``authorized``);
- ``requires_action``: the customer must visit ``next_action_url`` (3-D Secure), after which the
  payments service asks the gateway again (``confirm_action``) or a webhook tells the outcome;
- ``processing``: the gateway decides later and tells us by a signed webhook;
- ``pending``: offline methods (bank transfer, cash): staff confirm the funds later;
- ``failed``: with a stable ``failure_code`` and a ``failure_message`` a customer can read.

A gateway whose card is taken by its own script in the customer's browser (Stripe) answers
``requires_action`` with no ``next_action_url`` and says in ``browser_confirmation`` what that
script needs.

``find_payment`` looks a payment up by our idempotency key: the way to learn what became of a
call whose answer was lost. ``list_charges`` lists the money a gateway took in a window, from its
own records: reconciliation matches each with our payments and orders.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from funnel.core.money import Money


class OutcomeStatus(enum.StrEnum):
    SUCCEEDED = "succeeded"
    AUTHORIZED = "authorized"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    PENDING = "pending"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, repr=False)
class CardDetails:
    """Card input, held in memory for one gateway call only: never stored, logged or repeated.

    ``repr`` (and so any log line or traceback that formats it) shows no digit of it.
    """

    number: str
    expiry: str
    cvc: str

    def __repr__(self) -> str:
        return "CardDetails(<redacted>)"

    __str__ = __repr__


@dataclass(frozen=True)
class PaymentRequest:
    amount: Money
    idempotency_key: str
    description: str
    return_url: str
    payment_method: CardDetails | None = None
    capture_method: str = "automatic"
    # Our own ids, echoed back in webhooks so that an event can find its payment even before
    # the gateway's payment id is stored (``payment_public_id``).
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GatewayOutcome:
    status: OutcomeStatus
    gateway_payment_id: str
    next_action_url: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None


@dataclass(frozen=True)
class OperationOutcome:
    """The answer to capture, void and refund."""

    is_successful: bool
    gateway_reference: str
    failure_code: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True)
class GatewayDispute:
    """A card holder's bank disputing a charge: the gateway holds ``amount`` until it decides,
    and the shop has until ``respond_by`` (when the gateway says) to send its evidence."""

    dispute_id: str
    amount: Money
    reason: str
    respond_by: datetime | None = None


@dataclass(frozen=True)
class GatewayEvent:
    """A verified webhook event. ``status`` is the payment status the event reports, if any."""

    event_id: str
    type: str
    gateway_payment_id: str
    payment_public_id: str | None
    status: OutcomeStatus | None
    occurred_at: datetime
    failure_code: str | None = None
    failure_message: str | None = None
    dispute: GatewayDispute | None = None


@dataclass(frozen=True)
class GatewayCharge:
    """A succeeded payment in the gateway's own records (``list_charges``), with the ids we
    gave it in its metadata (None for a charge the shop never made)."""

    gateway_payment_id: str
    amount: Money
    refunded: Money
    created_at: datetime
    payment_public_id: str | None


@dataclass(frozen=True, repr=False)
class BrowserConfirmation:
    """What a gateway's own script needs to take the card in the customer's browser (Stripe's
    Payment Element): shown on that one page, never stored or logged."""

    script_url: str
    publishable_key: str
    client_secret: str
    # The Content-Security-Policy sources that page must allow for the script, by directive.
    policy_sources: Mapping[str, tuple[str, ...]]

    def __repr__(self) -> str:
        return "BrowserConfirmation(<redacted>)"

    __str__ = __repr__


class PaymentGateway(ABC):
    """A payment service. Subclasses set ``name`` (the config and URL name) and ``label``."""

    name: ClassVar[str]
    label: ClassVar[str]
    takes_card_details: ClassVar[bool] = False
    # Whether ``list_charges`` answers from the gateway's records (reconciliation asks only those).
    lists_charges: ClassVar[bool] = False
    # Whether it can authorise a card payment now and capture it later (``capture_method``
    # manual, then ``capture``): the shop's "capture at fulfilment" asks only those.
    captures_later: ClassVar[bool] = False

    @abstractmethod
    def create_payment(self, request: PaymentRequest) -> GatewayOutcome:
        """Create (or, for a key seen before, return) the gateway's payment for ``request``.

        Raises InvalidCard for malformed card details (nothing is created) and
        GatewayUnavailable when the gateway cannot answer (retry with the same key).
        """

    @abstractmethod
    def find_payment(self, idempotency_key: str) -> GatewayOutcome | None:
        """The payment created under our ``idempotency_key``, as it is now; None when the
        gateway never received it. Asked before anything gives up on a payment whose answer
        was lost (a worker killed mid-call, a timeout), so that money taken is never ignored.

        Raises GatewayUnavailable when the gateway cannot answer (nothing may be concluded).
        """

    @abstractmethod
    def confirm_action(self, gateway_payment_id: str) -> GatewayOutcome:
        """The payment's current outcome, after the customer's confirmation step."""

    @abstractmethod
    def capture(
        self, gateway_payment_id: str, amount: Money, idempotency_key: str
    ) -> OperationOutcome:
        """Take the money of an authorised payment."""

    @abstractmethod
    def void(self, gateway_payment_id: str, idempotency_key: str) -> OperationOutcome:
        """Cancel a payment that has not taken money (authorised, pending or awaiting action)."""

    @abstractmethod
    def refund(
        self, gateway_payment_id: str, amount: Money, idempotency_key: str
    ) -> OperationOutcome:
        """Give back ``amount`` of a succeeded payment, once per key."""

    def list_charges(self, since: datetime) -> list[GatewayCharge]:
        """The payments that took money at the gateway, created at or after ``since``, newest
        first; empty for a gateway that keeps no such list (``lists_charges`` False).

        Raises GatewayUnavailable when the gateway cannot answer (nothing may be concluded).
        """
        return []

    def browser_confirmation(self, gateway_payment_id: str) -> BrowserConfirmation | None:
        """For a payment awaiting the customer's card, what the gateway's script in the
        browser needs to take it; None for gateways that take the card otherwise.

        Raises GatewayUnavailable when the gateway cannot answer.
        """
        return None

    @abstractmethod
    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        """Verify the signature on the raw body and parse the event.

        Raises WebhookSignatureInvalid (bad, missing or expired signature) or
        WebhookPayloadInvalid (not an event this gateway sends).
        """
