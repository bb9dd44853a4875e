"""Gateway webhooks, applied exactly once.

The event is verified on the raw body first (nothing is read or written for a bad signature).
Then, in one transaction: its id is recorded under the unique constraint (gateway, event_id) —
a duplicate, even one arriving at the same instant, fails there and changes nothing — and the
payment is changed with the conditional update of ``state.py``. An event the payment has moved
past (a "succeeded" after a refund) is recorded and changes nothing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from funnel.core.database import transaction
from funnel.extensions import db
from funnel.payments.errors import PaymentNotFound
from funnel.payments.gateways import get_gateway
from funnel.payments.gateways.base import GatewayOutcome
from funnel.payments.models import Payment, WebhookEvent
from funnel.payments.services import state
from funnel.payments.services.results import PaymentResult, payment_result

log = logging.getLogger(__name__)


def apply_gateway_webhook(
    gateway_name: str, raw_body: bytes, headers: Mapping[str, str]
) -> PaymentResult | None:
    """Verify, record and apply one webhook delivery of gateway ``gateway_name``.

    Returns None for an event already recorded (a replay: answer 200), otherwise the payment's
    ``PaymentResult`` (``changed`` False when the event brought nothing new).
    Raises WebhookSignatureInvalid or WebhookPayloadInvalid (answer 400: nothing is recorded),
    GatewayNotEnabled (404), PaymentNotFound when no payment matches the event (answer with a
    4xx so that the gateway retries: the payment may not be committed yet).
    Side effects: a WebhookEvent row, and the payment's status change with its event row.
    """
    gateway = get_gateway(gateway_name)
    event = gateway.parse_webhook(raw_body, headers)
    with transaction():
        matches = [Payment.gateway_payment_id == event.gateway_payment_id]
        if event.payment_public_id:
            matches.append(Payment.public_id == event.payment_public_id)
        payment = db.session.scalar(
            select(Payment).where(Payment.gateway == gateway.name, or_(*matches)).limit(1)
        )
        if payment is None:
            log.warning("webhook %s %s: no payment matches", gateway.name, event.event_id)
            raise PaymentNotFound("No payment matches this event.")
        # Lock the payment before recording the event: the event row's foreign key takes a
        # shared lock on the payment, and two events upgrading theirs would deadlock (MariaDB).
        # Deliveries of one payment's events queue here; a duplicate then fails on the
        # unique (gateway, event_id) and changes nothing.
        locked = state.lock_payment(payment.id)
        try:
            with db.session.begin_nested():
                db.session.add(
                    WebhookEvent(
                        gateway=gateway.name,
                        event_id=event.event_id,
                        type=event.type[:100],
                        payment_id=payment.id,
                    )
                )
        except IntegrityError:
            log.info("webhook %s %s: already applied", gateway.name, event.event_id)
            return None
        if event.status is None:
            # a refund's or a dispute's news: recorded, no status of ours changes here
            return dataclasses.replace(payment_result(locked), dispute=event.dispute)
        outcome = GatewayOutcome(
            status=event.status,
            gateway_payment_id=event.gateway_payment_id,
            failure_code=event.failure_code,
            failure_message=event.failure_message,
        )
        return state.apply_outcome(
            locked,
            outcome,
            reason=f"webhook {event.type} {event.event_id}",
            actor=f"gateway:{gateway.name}",
        )
