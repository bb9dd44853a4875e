"""What the payments services return: small, immutable, safe to show or serialise."""

from __future__ import annotations

from dataclasses import dataclass

from funnel.core.money import Money
from funnel.payments import errors
from funnel.payments.gateways.base import GatewayDispute
from funnel.payments.models import Payment, PaymentStatus, PaymentTransaction, TransactionStatus

_MESSAGES = {
    PaymentStatus.PENDING: "We are waiting for your payment.",
    PaymentStatus.REQUIRES_ACTION: "Your bank asks you to confirm this payment.",
    PaymentStatus.PROCESSING: (
        "Your payment is being processed. We will let you know as soon as it is confirmed."
    ),
    PaymentStatus.AUTHORIZED: "Your payment is authorised.",
    PaymentStatus.SUCCEEDED: "Your payment was received. Thank you.",
    PaymentStatus.FAILED: "The payment did not go through.",
    PaymentStatus.CANCELLED: "The payment was cancelled.",
    PaymentStatus.PARTIALLY_REFUNDED: "Part of the payment was refunded.",
    PaymentStatus.REFUNDED: "The payment was refunded.",
}
_FAILURE_ERRORS: dict[str, type[errors.PaymentFailed]] = {
    errors.PaymentDeclined.code: errors.PaymentDeclined,
    errors.InsufficientFunds.code: errors.InsufficientFunds,
    errors.AuthenticationFailed.code: errors.AuthenticationFailed,
}


@dataclass(frozen=True)
class PaymentResult:
    """A payment after a service call.

    ``changed`` says whether this call changed the status (False for a replay, a duplicate, or
    an outcome that arrived after the payment had moved on). ``message`` is for the customer.
    """

    payment_id: int
    public_id: str
    payable_reference: str
    gateway: str
    amount: Money
    previous_status: PaymentStatus
    status: PaymentStatus
    changed: bool
    message: str
    next_action_url: str | None = None
    failure_code: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    # set by a webhook that reports a dispute of the payment's charge
    dispute: GatewayDispute | None = None

    @property
    def is_paid(self) -> bool:
        """The money is taken or held for us: the payable can be treated as paid."""
        return self.status in {PaymentStatus.SUCCEEDED, PaymentStatus.AUTHORIZED}

    @property
    def is_failed(self) -> bool:
        """Final without money: the customer may try again with a new payment."""
        return self.status in {PaymentStatus.FAILED, PaymentStatus.CANCELLED}

    @property
    def requires_action(self) -> bool:
        """Send the customer to ``next_action_url``."""
        return self.status == PaymentStatus.REQUIRES_ACTION

    @property
    def is_awaiting(self) -> bool:
        """Decided later: by a webhook (``processing``) or by staff (manual ``pending``)."""
        return self.status in {PaymentStatus.PENDING, PaymentStatus.PROCESSING}

    def raise_for_failure(self) -> None:
        """Raise the domain error matching a failed payment (PaymentDeclined,
        InsufficientFunds, AuthenticationFailed or PaymentFailed); do nothing otherwise."""
        if self.status != PaymentStatus.FAILED:
            return
        error = _FAILURE_ERRORS.get(self.failure_code or "", errors.PaymentFailed)
        raise error(self.message)


PaymentChange = PaymentResult


def payment_result(
    payment: Payment, previous_status: PaymentStatus | None = None, changed: bool = False
) -> PaymentResult:
    message = _MESSAGES[payment.status]
    if payment.status == PaymentStatus.FAILED and payment.failure_message:
        message = payment.failure_message
    return PaymentResult(
        payment_id=payment.id,
        public_id=payment.public_id,
        payable_reference=payment.payable_reference,
        gateway=payment.gateway,
        amount=payment.amount,
        previous_status=previous_status or payment.status,
        status=payment.status,
        changed=changed,
        message=message,
        next_action_url=(
            payment.next_action_url if payment.status == PaymentStatus.REQUIRES_ACTION else None
        ),
        failure_code=payment.failure_code,
        card_brand=payment.card_brand,
        card_last4=payment.card_last4,
    )


@dataclass(frozen=True)
class RefundResult:
    """A refund after ``refund_payment``; ``changed`` is False when the key was seen before."""

    transaction_id: int
    payment_id: int
    amount: Money
    status: TransactionStatus
    payment_status: PaymentStatus
    refunded: Money
    changed: bool

    @property
    def is_successful(self) -> bool:
        return self.status == TransactionStatus.SUCCEEDED


def refund_result(transaction: PaymentTransaction, payment: Payment, changed: bool) -> RefundResult:
    return RefundResult(
        transaction_id=transaction.id,
        payment_id=payment.id,
        amount=transaction.amount,
        status=transaction.status,
        payment_status=payment.status,
        refunded=payment.refunded,
        changed=changed,
    )
