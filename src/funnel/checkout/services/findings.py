"""Reconciliation findings: each charge a run found not matched is a row staff see and resolve.

``record_finding`` stores a run's finding once per (gateway, charge, kind): the insert runs
under a savepoint and the unique constraint turns a second one (a later run, or two runs
racing) into nothing. The findings the run settled itself (``paid``, ``refunded``) are stored
resolved, with what was done as the note; the others wait for staff, who resolve each with a
note of the action they took (``resolve_finding``, permission ``orders.refund``). A refunded
charge whose customer left an email gets the refund email, in the transaction that records
the finding: once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from funnel.accounts.models import User
from funnel.accounts.permissions import Permission, require_permission
from funnel.audit import services as audit
from funnel.checkout import emails, queries
from funnel.checkout.errors import (
    FindingAlreadyResolved,
    FindingNotFound,
    InvalidFindingResolution,
)
from funnel.checkout.models import (
    ACTION_NOTE_LENGTH,
    FINDING_DETAIL_LENGTH,
    SETTLED_KINDS,
    FindingKind,
    ReconciliationFinding,
)
from funnel.core import clock, metrics
from funnel.core.database import on_commit, transaction
from funnel.core.money import Money
from funnel.extensions import db

log = logging.getLogger(__name__)

NOTE = "note"


@dataclass(frozen=True)
class FoundCharge:
    """What reconciliation found one charge to be, as it is stored. ``customer_reason``: why
    the charge was refunded, in the customer's words (a refunded charge only)."""

    gateway: str
    gateway_charge_id: str
    amount: Money
    kind: FindingKind
    reference: str | None
    detail: str
    customer_reason: str | None = None


def record_finding(found: FoundCharge) -> bool:
    """Store a finding unless this (gateway, charge, kind) is stored already; whether it was new.

    Safe when two runs race (the unique constraint decides). Side effects: for a new
    ``refunded`` finding whose payable has a customer email, the refund email after the commit.
    """
    now = clock.utcnow()
    is_settled = found.kind in SETTLED_KINDS
    detail = found.detail[:FINDING_DETAIL_LENGTH]
    with transaction() as session:
        row = ReconciliationFinding(
            gateway=found.gateway,
            gateway_charge_id=found.gateway_charge_id,
            amount_minor=found.amount.amount,
            currency=found.amount.currency,
            kind=found.kind,
            reference=found.reference,
            detail=detail,
            found_at=now,
            resolved_at=now if is_settled else None,
            action_note=f"Done by the reconciliation: {detail}" if is_settled else None,
        )
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            return False
        if found.kind == FindingKind.REFUNDED:
            _tell_customer(found)
    return True


def _tell_customer(found: FoundCharge) -> None:
    address = queries.customer_email_for(found.reference)
    if address is None:
        log.info("refunded %s charge %s: no customer email", found.gateway, found.gateway_charge_id)
        return
    order_number = found.reference if queries.is_order_number(found.reference) else None
    emails.schedule_charge_refunded_email(
        address,
        found.amount,
        order_number,
        found.customer_reason or "the payment could not be matched with an order.",
    )


def resolve_finding(finding_id: int, note: object, *, actor_user_id: int) -> ReconciliationFinding:
    """Mark an open finding resolved, with the note of the action staff took.

    Raises PermissionDenied without ``orders.refund``, FindingNotFound, InvalidFindingResolution
    (422) for a blank or too long note, FindingAlreadyResolved (409): a finding is resolved
    once. Side effects: an audit entry ``reconciliation_finding.resolved``; the
    ``funnel_unreconciled_charges`` gauge set to the open findings left, after the commit.
    """
    text = note.strip() if isinstance(note, str) else ""
    with transaction():
        actor = db.session.get(User, actor_user_id)
        require_permission(actor, Permission.ORDERS_REFUND)
        assert actor is not None
        finding = db.session.get(ReconciliationFinding, finding_id)
        if finding is None:
            raise FindingNotFound()
        _check_note(text)
        now = clock.utcnow()
        changed = db.session.execute(
            update(ReconciliationFinding)
            .where(
                ReconciliationFinding.id == finding_id,
                ReconciliationFinding.resolved_at.is_(None),
            )
            .values(
                resolved_at=now,
                resolved_by_id=actor.id,
                resolved_by_email=actor.email,
                action_note=text,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            raise FindingAlreadyResolved(
                "This finding is resolved already: the note of what was done stays as it is."
            )
        db.session.refresh(finding)
        audit.record(
            "reconciliation_finding.resolved",
            actor_user_id=actor.id,
            object_type="reconciliation_finding",
            object_id=finding.id,
            object_label=f"{finding.kind.value} {finding.gateway} {finding.gateway_charge_id}",
            before={"resolved": False},
            after={"resolved": True, "note": text},
        )
        still_open = queries.count_open_findings()
        on_commit(lambda: metrics.unreconciled_charges(still_open))
    return finding


def _check_note(text: str) -> None:
    if not text:
        message = "Write what was done about this charge."
    elif len(text) > ACTION_NOTE_LENGTH:
        message = f"Use at most {ACTION_NOTE_LENGTH:,} characters (this has {len(text):,})."
    elif "\x00" in text:
        message = "Remove the NUL character."
    else:
        return
    raise InvalidFindingResolution(message, fields={NOTE: [message]})
