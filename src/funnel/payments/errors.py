"""Payment errors, each with a stable ``code`` (listed in the API guide).

A declined card is not an exception inside the payments domain: ``start_payment`` records it and
returns a failed ``PaymentResult``. ``PaymentResult.raise_for_failure()`` turns such a result into
the matching error below for callers that prefer exceptions.
"""

from __future__ import annotations

from funnel.core.errors import Conflict, DomainError, NotFound, ValidationFailed


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    title = "Payment not found"


class PaymentFailed(DomainError):
    """Base of the failures a customer can act on (another card, another method)."""

    code = "payment_failed"
    status = 402
    title = "The payment did not go through."


class PaymentDeclined(PaymentFailed):
    code = "payment_declined"
    title = "Your card was declined."


class InsufficientFunds(PaymentFailed):
    code = "insufficient_funds"
    title = "Your card has insufficient funds."


class AuthenticationFailed(PaymentFailed):
    code = "authentication_failed"
    title = "The card check with your bank was not completed."


class InvalidCard(ValidationFailed):
    """Malformed card details; ``fields`` names them (card_number, card_expiry, card_cvc)."""

    code = "invalid_card"
    title = "The card details are not valid"


class InvalidPaymentInput(ValidationFailed):
    code = "invalid_payment_input"
    title = "The payment request is not valid"


class GatewayNotEnabled(ValidationFailed):
    code = "gateway_not_enabled"
    title = "This payment method is not available"


class GatewayUnavailable(DomainError):
    """The gateway could not be reached or answered with an error: retry with the same key."""

    code = "gateway_unavailable"
    status = 503
    title = "The payment service is not available right now. Please try again."


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = "The payment cannot change to that status"


class PaymentIdempotencyKeyReused(ValidationFailed):
    """The key was already used for a different payment or refund (other amount or payable)."""

    code = "idempotency_key_reused"
    title = "This idempotency key was already used for a different request"


class PaymentInProgress(Conflict):
    """The payable already has a payment that is paid or may still be paid."""

    code = "payment_in_progress"
    title = "A payment for this order is already under way or complete"


class RefundExceedsPayment(ValidationFailed):
    code = "refund_exceeds_payment"
    title = "The refund is larger than what is left to refund"


class NothingLeftToRefund(Conflict):
    """The payment is refunded in full, or what is left is held by refunds under way."""

    code = "nothing_left_to_refund"
    title = "Nothing is left to refund"


class RefundFailed(DomainError):
    code = "refund_failed"
    status = 502
    title = "The gateway refused the refund"


class ManualAmountMismatch(ValidationFailed):
    code = "manual_amount_mismatch"
    title = "The amount received differs from the amount due"


class ManualAmountAboveDue(ValidationFailed):
    """More than is still due: the shop never records money it would have to give back."""

    code = "manual_amount_above_due"
    title = "The amount received is more than is still due"


class WebhookSignatureInvalid(DomainError):
    """Missing, malformed, wrong or expired webhook signature: answer 400, change nothing."""

    code = "webhook_signature_invalid"
    status = 400
    title = "The webhook signature is not valid"


class WebhookPayloadInvalid(DomainError):
    code = "webhook_payload_invalid"
    status = 400
    title = "The webhook body is not a valid event"


class ChallengeNotFound(NotFound):
    code = "challenge_not_found"
    title = "This payment check does not exist or has expired"
