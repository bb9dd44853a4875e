"""The test gateway's remote side: its own records, as a real payment service keeps them.

These tables belong to the pretend service, not to the shop: the shop's ``payments`` rows learn
about them only through the gateway client (``gateways/test/gateway.py``) and signed webhooks. Every
function here commits on its own (a remote service does not join the shop's transaction).

Only brand and last four digits of a card are kept here too.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core import clock
from funnel.core.database import transaction
from funnel.core.models import TimestampMixin, now
from funnel.extensions import db
from funnel.payments.errors import ChallengeNotFound
from funnel.payments.gateways.base import OutcomeStatus

DECLINED = ("payment_declined", "Your card was declined.")
INSUFFICIENT_FUNDS = ("insufficient_funds", "Your card has insufficient funds.")
CHALLENGE_REFUSED = ("authentication_failed", "The card check with your bank was not completed.")


class SandboxCharge(TimestampMixin, db.Model):
    __tablename__ = "test_gateway_charges"

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway_payment_id: Mapped[str] = mapped_column(String(40), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(24))
    capture_method: Mapped[str] = mapped_column(String(16))
    card_brand: Mapped[str] = mapped_column(String(20))
    card_last4: Mapped[str] = mapped_column(String(4))
    challenge_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    return_url: Mapped[str] = mapped_column(String(2000), default="")
    payment_public_id: Mapped[str | None] = mapped_column(String(32))
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_message: Mapped[str | None] = mapped_column(String(255))
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    settles_at: Mapped[datetime | None] = mapped_column()


class SandboxOperation(db.Model):
    """A capture, void or refund, once per idempotency key."""

    __tablename__ = "test_gateway_operations"

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_id: Mapped[int] = mapped_column(ForeignKey("test_gateway_charges.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(220), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    is_successful: Mapped[bool] = mapped_column()
    failure_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)


class SandboxWebhook(db.Model):
    """An event the pretend service owes the shop, until it is delivered."""

    __tablename__ = "test_gateway_webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    charge_id: Mapped[int] = mapped_column(ForeignKey("test_gateway_charges.id"), index=True)
    type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(default=now, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(255))


@dataclass(frozen=True)
class NewCharge:
    idempotency_key: str
    amount_minor: int
    currency: str
    description: str
    status: OutcomeStatus
    capture_method: str
    card_brand: str
    card_last4: str
    return_url: str
    payment_public_id: str | None
    failure: tuple[str, str] | None = None
    settle_after_seconds: int | None = None


def _identifier(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def create_charge(new: NewCharge) -> SandboxCharge:
    """Record a charge under its idempotency key; the same key returns the first charge."""
    with transaction():
        existing = charge_by_key(new.idempotency_key)
        if existing is not None:
            return existing
        charge = SandboxCharge(
            gateway_payment_id=_identifier("tpay"),
            idempotency_key=new.idempotency_key,
            amount_minor=new.amount_minor,
            currency=new.currency,
            description=new.description,
            status=new.status.value,
            capture_method=new.capture_method,
            card_brand=new.card_brand,
            card_last4=new.card_last4,
            return_url=new.return_url,
            payment_public_id=new.payment_public_id,
            failure_code=new.failure[0] if new.failure else None,
            failure_message=new.failure[1] if new.failure else None,
        )
        if new.status == OutcomeStatus.REQUIRES_ACTION:
            charge.challenge_token = secrets.token_urlsafe(24)
        if new.settle_after_seconds is not None:
            charge.settles_at = clock.utcnow() + timedelta(seconds=new.settle_after_seconds)
        try:
            with db.session.begin_nested():
                db.session.add(charge)
        except IntegrityError:
            # The same key, created at the same moment by another request: theirs stands.
            existing = charge_by_key(new.idempotency_key, for_update=True)
            if existing is None:
                raise
            return existing
        return charge


def charge_by_key(idempotency_key: str, for_update: bool = False) -> SandboxCharge | None:
    """The charge made under ``idempotency_key``. ``for_update`` (after a duplicate-key error)
    takes a shared locking read, which sees the committed winner under MariaDB's snapshot."""
    statement = select(SandboxCharge).where(SandboxCharge.idempotency_key == idempotency_key)
    if for_update:
        statement = statement.with_for_update(read=True)
    return db.session.scalar(statement.execution_options(populate_existing=True))


def charge_by_id(gateway_payment_id: str) -> SandboxCharge | None:
    return db.session.scalar(
        select(SandboxCharge)
        .where(SandboxCharge.gateway_payment_id == gateway_payment_id)
        .execution_options(populate_existing=True)
    )


def succeeded_charges(since: datetime) -> list[SandboxCharge]:
    """The charges that took money created at or after ``since``, newest first."""
    return list(
        db.session.scalars(
            select(SandboxCharge)
            .where(
                SandboxCharge.status == OutcomeStatus.SUCCEEDED.value,
                SandboxCharge.created_at >= since,
            )
            .order_by(SandboxCharge.created_at.desc(), SandboxCharge.id.desc())
        )
    )


def charge_by_challenge(token: str) -> SandboxCharge:
    """Raises ChallengeNotFound for an unknown token."""
    charge = None
    if token and len(token) <= 64:
        charge = db.session.scalar(
            select(SandboxCharge).where(SandboxCharge.challenge_token == token)
        )
    if charge is None:
        raise ChallengeNotFound()
    return charge


def _success_status(charge: SandboxCharge) -> str:
    manual = charge.capture_method == "manual"
    return (OutcomeStatus.AUTHORIZED if manual else OutcomeStatus.SUCCEEDED).value


def _queue_webhook(charge: SandboxCharge, event_type: str) -> SandboxWebhook:
    event_id = _identifier("evt")
    body = {
        "id": event_id,
        "type": event_type,
        "created": int(clock.utcnow().timestamp()),
        "data": {
            "payment": {
                "id": charge.gateway_payment_id,
                "status": charge.status,
                "amount": charge.amount_minor,
                "currency": charge.currency,
                "failure_code": charge.failure_code,
                "failure_message": charge.failure_message,
                "metadata": {"payment_public_id": charge.payment_public_id},
            }
        },
    }
    webhook = SandboxWebhook(
        event_id=event_id,
        charge_id=charge.id,
        type=event_type,
        body=json.dumps(body, separators=(",", ":"), sort_keys=True),
        due_at=clock.utcnow(),
    )
    db.session.add(webhook)
    return webhook


def _return_url_for(charge: SandboxCharge) -> str:
    parts = urlsplit(charge.return_url)
    extra = urlencode({"gateway_payment_id": charge.gateway_payment_id})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def decide_challenge(token: str, is_approved: bool) -> str:
    """The customer approves or refuses the 3-D Secure check; returns where to send them.

    The first decision stands (a second one changes nothing). The service then owes the shop a
    webhook with the outcome. Raises ChallengeNotFound.
    """
    with transaction():
        charge = db.session.scalar(
            select(SandboxCharge)
            .where(SandboxCharge.challenge_token == token)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if charge is None:
            raise ChallengeNotFound()
        if charge.status == OutcomeStatus.REQUIRES_ACTION.value:
            if is_approved:
                charge.status = _success_status(charge)
                _queue_webhook(charge, "payment.succeeded")
            else:
                charge.status = OutcomeStatus.FAILED.value
                charge.failure_code, charge.failure_message = CHALLENGE_REFUSED
                _queue_webhook(charge, "payment.failed")
        return _return_url_for(charge)


def settle_due_charges(at: datetime | None = None) -> int:
    """Processing charges whose time has come succeed, each owing the shop a webhook."""
    at = at or clock.utcnow()
    with transaction():
        charges = db.session.scalars(
            select(SandboxCharge)
            .where(
                SandboxCharge.status == OutcomeStatus.PROCESSING.value,
                SandboxCharge.settles_at <= at,
            )
            .order_by(SandboxCharge.id)
            .with_for_update()
        ).all()
        for charge in charges:
            charge.status = _success_status(charge)
            _queue_webhook(charge, "payment.succeeded")
        return len(charges)


def due_webhooks(at: datetime | None = None, limit: int = 100) -> list[SandboxWebhook]:
    at = at or clock.utcnow()
    return list(
        db.session.scalars(
            select(SandboxWebhook)
            .where(SandboxWebhook.delivered_at.is_(None), SandboxWebhook.due_at <= at)
            .order_by(SandboxWebhook.id)
            .limit(limit)
        )
    )


def webhooks_for(gateway_payment_id: str) -> list[SandboxWebhook]:
    charge = charge_by_id(gateway_payment_id)
    if charge is None:
        return []
    return list(
        db.session.scalars(
            select(SandboxWebhook)
            .where(SandboxWebhook.charge_id == charge.id)
            .order_by(SandboxWebhook.id)
        )
    )


def record_delivery(webhook_id: int, error: str | None) -> None:
    """After a delivery attempt: delivered, or retried later (a minute per attempt, at most 30)."""
    with transaction():
        webhook = db.session.get(SandboxWebhook, webhook_id)
        if webhook is None:
            return
        webhook.attempts += 1
        if error is None:
            webhook.delivered_at = clock.utcnow()
            webhook.last_error = None
        else:
            webhook.last_error = error[:255]
            webhook.due_at = clock.utcnow() + timedelta(minutes=min(webhook.attempts, 30))


def record_operation(
    charge: SandboxCharge, kind: str, amount_minor: int, idempotency_key: str
) -> SandboxOperation:
    """Capture, void or refund ``charge`` once per key (the same key returns the first answer)."""
    with transaction():
        existing = db.session.scalar(
            select(SandboxOperation).where(SandboxOperation.idempotency_key == idempotency_key)
        )
        if existing is not None:
            return existing
        locked = db.session.scalar(
            select(SandboxCharge)
            .where(SandboxCharge.id == charge.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert locked is not None
        failure = _apply_operation(locked, kind, amount_minor)
        operation = SandboxOperation(
            charge_id=locked.id,
            idempotency_key=idempotency_key,
            kind=kind,
            amount_minor=amount_minor,
            reference=_identifier({"refund": "tref", "capture": "tcap"}.get(kind, "tvoid")),
            is_successful=failure is None,
            failure_code=failure,
        )
        db.session.add(operation)
        return operation


def _apply_operation(charge: SandboxCharge, kind: str, amount_minor: int) -> str | None:
    """Change the charge for the operation; return a failure code when it cannot be done."""
    if kind == "capture":
        if charge.status != OutcomeStatus.AUTHORIZED.value or amount_minor > charge.amount_minor:
            return "charge_not_capturable"
        charge.status = OutcomeStatus.SUCCEEDED.value
    elif kind == "void":
        voidable = {
            OutcomeStatus.AUTHORIZED.value,
            OutcomeStatus.REQUIRES_ACTION.value,
            OutcomeStatus.PROCESSING.value,
        }
        if charge.status not in voidable:
            return "charge_not_voidable"
        charge.status = OutcomeStatus.CANCELLED.value
    elif kind == "refund":
        left = charge.amount_minor - charge.refunded_minor
        if charge.status != OutcomeStatus.SUCCEEDED.value or not 0 < amount_minor <= left:
            return "charge_not_refundable"
        charge.refunded_minor += amount_minor
    else:
        return "unknown_operation"
    return None
