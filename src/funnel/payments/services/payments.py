"""Taking money: create, submit, confirm, capture, void, and staff-confirmed manual payments.

A gateway is a network service, so no gateway call runs inside a database transaction: the
functions that call one (``start_payment``, ``submit_payment``, ``confirm_payment_action``,
``capture_payment``, ``void_payment``) must be called outside ``transaction()`` and raise
RuntimeError otherwise. Each records the gateway's answer in a transaction of its own, with the
conditional status change of ``state.py``. Every gateway call carries our idempotency key, so a
retry after a crash or a timeout gets the first answer and never charges twice.
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from funnel.core.database import in_transaction, transaction
from funnel.core.money import Money
from funnel.extensions import db
from funnel.payments.errors import (
    InvalidCard,
    InvalidPaymentInput,
    InvalidTransition,
    PaymentIdempotencyKeyReused,
    PaymentInProgress,
)
from funnel.payments.gateways import get_gateway
from funnel.payments.gateways.base import CardDetails, PaymentRequest
from funnel.payments.models import (
    Payment,
    PaymentStatus,
    TransactionKind,
    TransactionStatus,
)
from funnel.payments.services import state, submissions
from funnel.payments.services.results import PaymentResult, payment_result

REFERENCE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")
_KEY = re.compile(r"^[\x21-\x7e]{8,200}$")
CAPTURE_METHODS = ("automatic", "manual")
VOIDABLE = frozenset(
    {
        PaymentStatus.PENDING,
        PaymentStatus.REQUIRES_ACTION,
        PaymentStatus.PROCESSING,
        PaymentStatus.AUTHORIZED,
    }
)


def _outside_transaction(name: str) -> None:
    if in_transaction():
        raise RuntimeError(f"{name}() calls the gateway: call it outside transaction()")


def _check_input(
    payable_reference: str, amount: Money, idempotency_key: str, return_url: str, capture: str
) -> None:
    fields: dict[str, list[str]] = {}
    if not isinstance(payable_reference, str) or not REFERENCE_PATTERN.match(payable_reference):
        fields["payable_reference"] = ["Use 1 to 64 letters, digits or . _ : / -"]
    if not isinstance(amount, Money) or amount.amount <= 0:
        fields["amount"] = ["The amount must be more than zero."]
    if not isinstance(idempotency_key, str) or not _KEY.match(idempotency_key):
        fields["idempotency_key"] = ["Use 8 to 200 printable ASCII characters, no spaces."]
    is_path = return_url.startswith("/") and not return_url.startswith("//")
    if return_url and (
        len(return_url) > 2000
        or not (is_path or re.match(r"^https?://[^/\s]+", return_url))
        or any(char.isspace() for char in return_url)
    ):
        fields["return_url"] = ["Give an http(s) URL or a path of this site."]
    if capture not in CAPTURE_METHODS:
        fields["capture_method"] = ["Use automatic or manual."]
    if fields:
        raise InvalidPaymentInput(fields=fields)


def _payment(payment_id: int) -> Payment:
    return submissions.current_payment(payment_id)


def _by_key(idempotency_key: str, after_conflict: bool = False) -> Payment | None:
    """The payment made under ``idempotency_key``.

    The first look is a plain read: a locking read of a missing row takes a gap lock on
    MariaDB, and concurrent inserts into that gap deadlock. After a duplicate-key error the
    row exists: a shared locking read then sees it (a plain read would use the old snapshot).
    """
    statement = select(Payment).where(Payment.idempotency_key == idempotency_key)
    if after_conflict:
        statement = statement.with_for_update(read=True)
    return db.session.scalar(statement.execution_options(populate_existing=True))


def _same_request(payment: Payment, reference: str, amount: Money, gateway: str) -> Payment:
    if (payment.payable_reference, payment.amount, payment.gateway) != (reference, amount, gateway):
        raise PaymentIdempotencyKeyReused()
    return payment


def create_payment(
    *,
    payable_reference: str,
    amount: Money,
    gateway: str,
    idempotency_key: str,
    description: str = "",
    return_url: str = "",
    capture_method: str = "automatic",
) -> Payment:
    """Record a ``pending`` payment for ``payable_reference``; no gateway call yet.

    Joins the caller's transaction (so checkout can create it with the order). The same key
    with the same reference, amount and gateway returns the first payment.

    Raises InvalidPaymentInput, GatewayNotEnabled, PaymentIdempotencyKeyReused (the key was used for
    another request), PaymentInProgress (the payable has another live payment: pending,
    awaiting action, processing, authorised or paid).
    Side effects: a ``payments`` row and its first PaymentEvent.
    """
    _check_input(payable_reference, amount, idempotency_key, return_url, capture_method)
    get_gateway(gateway)
    with transaction():
        existing = _by_key(idempotency_key)
        if existing is not None:
            return _same_request(existing, payable_reference, amount, gateway)
        payment = Payment(
            public_id=f"pay_{secrets.token_hex(12)}",
            payable_reference=payable_reference,
            active_payable_reference=payable_reference,
            gateway=gateway,
            idempotency_key=idempotency_key,
            amount_minor=amount.amount,
            currency=amount.currency,
            status=PaymentStatus.PENDING,
            capture_method=capture_method,
            description=description.strip()[:255],
            return_url=return_url,
        )
        try:
            with db.session.begin_nested():
                db.session.add(payment)
        except IntegrityError as error:
            existing = _by_key(idempotency_key, after_conflict=True)
            if existing is not None:
                return _same_request(existing, payable_reference, amount, gateway)
            raise PaymentInProgress() from error
        state.record_created(payment)
        return payment


def submit_payment(payment_id: int, payment_method: CardDetails | None = None) -> PaymentResult:
    """Send a pending payment to its gateway and record the outcome.

    ``payment_method`` (card details for the test gateway) is used for this call only.
    Submitting a payment the gateway already has returns its current state (no second charge):
    a payment sent before whose answer was lost is looked up at the gateway first.
    A declined card is not an exception: the result has ``status`` failed and a ``message``.

    Raises InvalidCard (nothing recorded: the customer may correct and resubmit),
    GatewayUnavailable (retry: the same key returns the same gateway payment), PaymentNotFound.
    """
    _outside_transaction("submit_payment")
    payment = _payment(payment_id)
    if payment.status != PaymentStatus.PENDING or payment.gateway_payment_id is not None:
        return payment_result(payment)
    gateway = get_gateway(payment.gateway)
    # Sent before and its answer lost (a killed worker, a timeout): the gateway says what
    # became of it. Otherwise record that it is being sent, then send it.
    outcome = gateway.find_payment(payment.idempotency_key) if payment.submitted_at else None
    if outcome is None:
        is_first_sending = submissions.mark_submitted(payment_id)
        try:
            outcome = gateway.create_payment(
                PaymentRequest(
                    amount=payment.amount,
                    idempotency_key=payment.idempotency_key,
                    description=payment.description,
                    return_url=payment.return_url,
                    payment_method=payment_method,
                    capture_method=payment.capture_method,
                    metadata={"payment_public_id": payment.public_id},
                )
            )
        except InvalidCard:
            if is_first_sending:
                submissions.forget_submission(payment_id)
            raise
    with transaction():
        locked = state.lock_payment(payment_id)
        return state.apply_outcome(
            locked, outcome, reason="submitted to the gateway", actor=f"gateway:{gateway.name}"
        )


def start_payment(
    *,
    payable_reference: str,
    amount: Money,
    gateway: str,
    idempotency_key: str,
    payment_method: CardDetails | None = None,
    description: str = "",
    return_url: str = "",
    capture_method: str = "automatic",
) -> PaymentResult:
    """``create_payment`` then ``submit_payment``: the one call for a payment attempt.

    Call outside ``transaction()``. Same arguments as those two; same errors.
    """
    _outside_transaction("start_payment")
    payment = create_payment(
        payable_reference=payable_reference,
        amount=amount,
        gateway=gateway,
        idempotency_key=idempotency_key,
        description=description,
        return_url=return_url,
        capture_method=capture_method,
    )
    return submit_payment(payment.id, payment_method)


def confirm_payment_action(payment_id: int) -> PaymentResult:
    """After the customer's confirmation step (3-D Secure), ask the gateway and record the
    outcome. Call it when the customer comes back to the return URL; a webhook may bring the
    same news at the same moment, and only one of them changes the payment.

    Raises GatewayUnavailable, PaymentNotFound.
    """
    _outside_transaction("confirm_payment_action")
    payment = _payment(payment_id)
    waiting = {PaymentStatus.REQUIRES_ACTION, PaymentStatus.PROCESSING}
    if payment.status not in waiting or payment.gateway_payment_id is None:
        return payment_result(payment)
    gateway = get_gateway(payment.gateway)
    outcome = gateway.confirm_action(payment.gateway_payment_id)
    with transaction():
        locked = state.lock_payment(payment_id)
        return state.apply_outcome(
            locked, outcome, reason="customer returned from confirmation", actor="customer"
        )


def capture_payment(payment_id: int, *, actor_user_id: int | None = None) -> PaymentResult:
    """Take the money of an ``authorized`` payment (its whole amount).

    Capturing a payment already captured returns it unchanged. Raises InvalidTransition (not
    authorised, or the gateway refused), GatewayUnavailable, PaymentNotFound.
    Side effects: a capture transaction and a status change to ``succeeded``.
    """
    _outside_transaction("capture_payment")
    payment = _payment(payment_id)
    if payment.status == PaymentStatus.SUCCEEDED and payment.capture_method == "manual":
        return payment_result(payment)
    if payment.status != PaymentStatus.AUTHORIZED or payment.gateway_payment_id is None:
        raise InvalidTransition(f"A payment that is {payment.status.value} cannot be captured.")
    key = f"{payment.idempotency_key}:capture"
    operation = get_gateway(payment.gateway).capture(
        payment.gateway_payment_id, payment.amount, key
    )
    if not operation.is_successful:
        raise InvalidTransition("The gateway refused to capture this payment.")
    with transaction():
        locked = state.lock_payment(payment_id)
        previous = locked.status
        state.record_transaction(
            locked,
            TransactionKind.CAPTURE,
            TransactionStatus.SUCCEEDED,
            key,
            gateway_reference=operation.gateway_reference,
            actor_user_id=actor_user_id,
        )
        changed = False
        if locked.status == PaymentStatus.AUTHORIZED:
            changed = state.change_status(
                locked,
                PaymentStatus.SUCCEEDED,
                reason="captured",
                actor="staff" if actor_user_id else "system",
                actor_user_id=actor_user_id,
            )
        return payment_result(locked, previous, changed)


def void_payment(
    payment_id: int,
    *,
    reason: str,
    actor_user_id: int | None = None,
    keep_if_received: bool = False,
) -> PaymentResult:
    """Cancel a payment that has taken no money: pending (a manual payment never paid, or
    paid in part: the part received is refunded),
    awaiting action, processing or authorised. Voiding a cancelled payment changes nothing.
    A payment sent whose answer was lost is first looked up at the gateway (``submissions``).

    ``keep_if_received``: a payment that received part of its amount is left alone
    (InvalidTransition), checked under the payment's lock: a job never gives money back unasked.
    Raises InvalidTransition (already paid, failed or refunded: refund instead; or the gateway
    refused because it completed meanwhile, or says it took the money), GatewayUnavailable
    (also while a lost answer may still arrive), PaymentNotFound.
    Side effects: a void transaction and a status change to ``cancelled``.
    """
    _outside_transaction("void_payment")
    payment = _payment(payment_id)
    if payment.is_outcome_unknown:
        # Never cancel a payment that may have taken money without asking the gateway.
        submissions.reconcile_payment(payment_id)
        payment = _payment(payment_id)
        submissions.check_may_give_up(payment)
    if payment.status == PaymentStatus.CANCELLED:
        return payment_result(payment)
    if payment.status not in VOIDABLE:
        raise InvalidTransition(f"A payment that is {payment.status.value} cannot be voided.")
    key = f"{payment.idempotency_key}:void"
    reference = None
    if payment.gateway_payment_id is not None:
        operation = get_gateway(payment.gateway).void(payment.gateway_payment_id, key)
        if not operation.is_successful:
            raise InvalidTransition("The gateway could not cancel this payment any more.")
        reference = operation.gateway_reference
    with transaction():
        locked = state.lock_payment(payment_id)
        previous = locked.status
        if previous not in VOIDABLE:
            if previous == PaymentStatus.CANCELLED:
                return payment_result(locked)
            raise InvalidTransition(f"A payment that is {previous.value} cannot be voided.")
        values = {}
        if locked.received_minor and keep_if_received:
            raise InvalidTransition("Part of this payment has been received: staff settle it.")
        if locked.received_minor:
            # Part of a bank transfer had arrived: it goes back to the customer (staff move
            # offline money themselves, as for any refund of this gateway).
            state.record_transaction(
                locked,
                TransactionKind.REFUND,
                TransactionStatus.SUCCEEDED,
                f"{payment.idempotency_key}:void-refund",
                amount_minor=locked.received_minor,
                reason=reason or "cancelled: the sum received goes back",
                actor_user_id=actor_user_id,
            )
            values["refunded_minor"] = locked.received_minor
        state.record_transaction(
            locked,
            TransactionKind.VOID,
            TransactionStatus.SUCCEEDED,
            key,
            amount_minor=0,
            gateway_reference=reference,
            reason=reason,
            actor_user_id=actor_user_id,
        )
        changed = state.change_status(
            locked,
            PaymentStatus.CANCELLED,
            reason=reason or "voided",
            actor="staff" if actor_user_id else "system",
            actor_user_id=actor_user_id,
            values=values,
        )
        return payment_result(locked, previous, changed)
