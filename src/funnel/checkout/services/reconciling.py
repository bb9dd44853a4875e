"""Reconciliation: every charge a gateway took ends in a paid order or a refund.

The webhook and the customer's return both settle a payment; when both are lost (a worker
killed before its commit, a webhook endpoint down for longer than the gateway retries), the
money is taken and the order waits, or is cancelled at its expiry. So every hour (the
``checkout-reconcile-charges`` job, or ``flask --app funnel payments reconcile``) each gateway
that keeps a list of its charges (``lists_charges``) is asked for those of the last ``WINDOW``,
and each charge is matched with our payment and its order:

- ``matched``: the payment succeeded and its order is paid, or the money went back (refunded
  in our books or at the gateway): nothing to do;
- ``paid``: the payment had not recorded the charge: it is recorded now through the payments
  state machine (one event), and the order, still able to take it, is paid (an attempt whose
  order was never placed places it, as the customer's request would have);
- ``refunded``: the order can no longer take it (cancelled, its stock returned), or the
  payment had ended failed or cancelled: the charge is refunded in full at the gateway under a
  key derived from the charge's id (``charge_refund_key``);
- ``foreign``: no payment of ours names it (made in the gateway's dashboard, or by another
  system on the same account): reported, never refunded blindly;
- ``unresolved``: anything else (an amount that differs, the gateway unreachable mid-way):
  reported for staff; the next run tries again;
- ``missing_refund``: the gateway refunded more of the charge than our books record (a refund
  made in the gateway's dashboard): reported for staff, nothing changed.

And the other way round, ``missing_charge``: a payment of ours through that gateway, created in
the window, that had succeeded before the gateway was asked, and whose charge the gateway does
not list (a success recorded in error, a charge the gateway reversed): reported for staff,
nothing changed.

A second run finds every settled charge ``matched``: nothing changes twice. Every finding
but ``matched`` is stored, once per (gateway, charge, kind) (``findings``): ``paid`` and
``refunded`` as resolved by the run itself, the others open for staff, who resolve them on
the staff page with a note of what they did. A refunded charge's customer is told by email,
once. The gauge ``funnel_unreconciled_charges`` holds the open findings after the last run
(or the last one resolved).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from funnel.checkout import queries
from funnel.checkout.models import FindingKind
from funnel.checkout.services.findings import FoundCharge, record_finding
from funnel.checkout.services.outcomes import OutcomeKind, apply_result
from funnel.checkout.services.placing import parse_attempt_reference
from funnel.checkout.services.settling import settle_paid
from funnel.core import clock, metrics
from funnel.core.database import transaction
from funnel.core.errors import DomainError
from funnel.core.money import Money
from funnel.extensions import db
from funnel.orders import queries as order_queries
from funnel.payments import queries as payment_queries
from funnel.payments import services as payments
from funnel.payments.gateways import enabled_gateways
from funnel.payments.gateways.base import GatewayCharge
from funnel.payments.models import PaymentStatus

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=48)
REFUNDED = frozenset({PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED})
ENDED = frozenset({PaymentStatus.FAILED, PaymentStatus.CANCELLED})


class Finding(enum.StrEnum):
    MATCHED = "matched"
    PAID = "paid"
    REFUNDED = "refunded"
    FOREIGN = "foreign"
    UNRESOLVED = "unresolved"
    MISSING_CHARGE = "missing_charge"
    MISSING_REFUND = "missing_refund"


UNRECONCILED = frozenset(
    {Finding.FOREIGN, Finding.UNRESOLVED, Finding.MISSING_CHARGE, Finding.MISSING_REFUND}
)


@dataclass(frozen=True)
class ChargeFinding:
    """What one charge was found to be, and what was done. ``reference``: its order number
    (or the payable our payment names), None for a foreign charge. ``customer_reason``: why a
    refunded charge was refunded, as the customer's email says it."""

    gateway: str
    charge: GatewayCharge
    finding: Finding
    reference: str | None
    detail: str
    customer_reason: str | None = None

    def stored(self) -> FoundCharge:
        """The finding as a row stores it."""
        return FoundCharge(
            gateway=self.gateway,
            gateway_charge_id=self.charge.gateway_payment_id,
            amount=self.charge.amount,
            kind=FindingKind(self.finding.value),
            reference=self.reference,
            detail=self.detail,
            customer_reason=self.customer_reason,
        )


@dataclass(frozen=True)
class Reconciliation:
    since: datetime
    findings: tuple[ChargeFinding, ...]

    def count(self, finding: Finding) -> int:
        return sum(1 for found in self.findings if found.finding == finding)

    @property
    def unreconciled(self) -> int:
        """Charges left foreign, unresolved or missing: staff look at them (the runbook says
        how)."""
        return sum(1 for found in self.findings if found.finding in UNRECONCILED)


def reconcile_charges(window: timedelta = WINDOW) -> Reconciliation:
    """Match every charge of the last ``window`` with its payment and order (see the module).

    Call outside a transaction (gateway calls). Raises GatewayUnavailable when a gateway
    cannot list its charges (nothing is concluded; the metric keeps the last run's count).
    Side effects: payments recorded succeeded, orders paid, refunds at the gateway (and the
    customer's email); a finding row per charge not matched (once); the
    ``funnel_unreconciled_charges`` gauge and ``funnel_reconciled_charges`` counter.
    """
    since = clock.utcnow() - window
    findings: list[ChargeFinding] = []
    for gateway in enabled_gateways():
        if not gateway.lists_charges:
            continue
        asked_at = clock.utcnow()
        charges = list(gateway.list_charges(since))
        for charge in charges:
            found = _reconcile(gateway.name, charge)
            if found.finding != Finding.MATCHED:
                record_finding(found.stored())
            findings.append(found)
        for found in _missing_charges(gateway.name, charges, since, asked_at):
            record_finding(found.stored())
            findings.append(found)
    report = Reconciliation(since, tuple(findings))
    for found in report.findings:
        if found.finding != Finding.MATCHED:
            metrics.charge_reconciled(found.finding.value)
    still_open = queries.count_open_findings()
    db.session.commit()  # end the read
    metrics.unreconciled_charges(still_open)
    log.info(
        "reconciliation: %d charges, %d paid, %d refunded, %d foreign, %d unresolved, %d missing",
        len(report.findings),
        report.count(Finding.PAID),
        report.count(Finding.REFUNDED),
        report.count(Finding.FOREIGN),
        report.count(Finding.UNRESOLVED),
        report.count(Finding.MISSING_CHARGE),
    )
    return report


def _missing_charges(
    gateway: str, charges: list[GatewayCharge], since: datetime, asked_at: datetime
) -> list[ChargeFinding]:
    """Our payments that had succeeded before the gateway was asked (``asked_at``: a payment
    settling while the list is read is left to the next run) and whose charge is not listed."""
    listed = {charge.gateway_payment_id for charge in charges}
    named = {charge.payment_public_id for charge in charges if charge.payment_public_id}
    missing = [
        ChargeFinding(
            gateway,
            GatewayCharge(
                gateway_payment_id=payment.gateway_payment_id or payment.public_id,
                amount=payment.amount,
                refunded=Money.zero(payment.currency),
                created_at=payment.created_at,
                payment_public_id=payment.public_id,
            ),
            Finding.MISSING_CHARGE,
            payment.payable_reference,
            "our payment succeeded, but the gateway lists no such charge: nothing changed, "
            "look at it",
        )
        for payment in payment_queries.succeeded_payments(gateway, since, asked_at)
        if payment.gateway_payment_id not in listed and payment.public_id not in named
    ]
    db.session.commit()  # end the read
    for found in missing:
        log.warning(
            "reconciliation: %s lists no charge for our payment %s",
            gateway,
            found.charge.payment_public_id,
        )
    return missing


def _reconcile(gateway: str, charge: GatewayCharge) -> ChargeFinding:
    def found(
        finding: Finding, detail: str, reference: str | None = None, customer: str | None = None
    ) -> ChargeFinding:
        return ChargeFinding(gateway, charge, finding, reference, detail, customer)

    payment = payment_queries.payment_for_charge(
        gateway, charge.gateway_payment_id, charge.payment_public_id
    )
    if payment is not None and charge.refunded.amount > 0:
        recorded = Money(payment_queries.refunds_recorded(payment.id), charge.refunded.currency)
        if recorded.amount < charge.refunded.amount:
            reference = payment.payable_reference
            db.session.commit()  # end the read
            return found(
                Finding.MISSING_REFUND,
                f"the gateway refunded {charge.refunded.format()}, our books "
                f"{recorded.format()}: nothing changed, look at it",
                reference,
            )
    if charge.refunded.amount >= charge.amount.amount:
        db.session.commit()  # end the read
        return found(Finding.MATCHED, "refunded at the gateway")
    if payment is None:
        db.session.commit()  # end the read
        log.warning(
            "reconciliation: %s charge %s names no payment of ours",
            gateway,
            charge.gateway_payment_id,
        )
        return found(Finding.FOREIGN, "no payment of ours: not refunded, look at it")
    payment_id, status, reference = payment.id, payment.status, payment.payable_reference
    is_attempt = parse_attempt_reference(reference) is not None
    order = None if is_attempt else order_queries.find_order(reference)
    is_order_paid = order is not None and order.paid_at is not None
    db.session.commit()  # end the read: what follows calls the gateway
    if status in REFUNDED:
        return found(Finding.MATCHED, "refunded", reference)
    if status == PaymentStatus.SUCCEEDED and is_order_paid:
        return found(Finding.MATCHED, "the order is paid", reference)
    try:
        if status in ENDED:
            payments.refund_stray_charge(
                payment_id, charge, reason=f"charged after the payment was {status.value}"
            )
            return found(
                Finding.REFUNDED,
                f"the payment was {status.value}",
                reference,
                f"the payment came through after it had been recorded as {status.value}, "
                "so no order was kept for it.",
            )
        result = payments.record_found_charge(payment_id, charge)
        if is_attempt:
            outcome = apply_result(result)
            if outcome.kind == OutcomeKind.PAID:
                return found(Finding.PAID, "the order is placed and paid", outcome.number)
            if outcome.is_given_back:
                return found(Finding.REFUNDED, outcome.message, reference, outcome.message)
            return found(Finding.UNRESOLVED, outcome.message, reference)
        if order is None:
            # Not an order's payment (nor an attempt's): the money is in our books, for a
            # payable the checkout does not settle.
            finding = Finding.PAID if result.changed else Finding.MATCHED
            return found(finding, "recorded: the payment pays no order", reference)
        with transaction():
            is_honoured = settle_paid(reference)
        if is_honoured:
            return found(Finding.PAID, "the order is paid", reference)
        payments.refund_payment(
            payment_id,
            result.amount,
            payments.charge_refund_key(charge.gateway_payment_id),
            reason="the order could not take its payment any more",
        )
        return found(
            Finding.REFUNDED,
            "the order could not take it any more",
            reference,
            "the order had been cancelled before the payment reached us.",
        )
    except DomainError as error:
        log.warning(
            "reconciliation: %s charge %s of %s unresolved (%s)",
            gateway,
            charge.gateway_payment_id,
            reference,
            error.code,
        )
        return found(Finding.UNRESOLVED, error.detail, reference)
