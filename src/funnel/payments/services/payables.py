"""What a payment pays for can be named after it was made.

Checkout takes a card before any order exists (a declined card must leave no order behind),
so the payment is made for the checkout's attempt and, once the money is taken or on its
way, handed to the order placed for it. The payments domain still knows no orders: it only
swaps one opaque reference for another, once, in the caller's transaction.
"""

from __future__ import annotations

from funnel.core.database import transaction
from funnel.extensions import db
from funnel.payments.errors import InvalidPaymentInput
from funnel.payments.models import PaymentEvent
from funnel.payments.services.payments import REFERENCE_PATTERN
from funnel.payments.services.state import lock_payment


def assign_payable(payment_id: int, payable_reference: str) -> None:
    """Make ``payable_reference`` (an order number) what the payment pays for, from now on.

    Joins the caller's transaction (checkout places the order in the same one). A payment
    still live moves its one-live-payment claim to the new reference. Assigning the same
    reference again changes nothing.
    Raises InvalidPaymentInput (a malformed reference), PaymentNotFound.
    Side effects: a PaymentEvent saying what the payment now pays for (status unchanged).
    """
    if not REFERENCE_PATTERN.match(payable_reference or ""):
        raise InvalidPaymentInput(fields={"payable_reference": ["Use 1 to 64 letters or digits."]})
    with transaction():
        payment = lock_payment(payment_id)
        if payment.payable_reference == payable_reference:
            return
        previous = payment.payable_reference
        payment.payable_reference = payable_reference
        if payment.active_payable_reference is not None:
            payment.active_payable_reference = payable_reference
        db.session.add(
            PaymentEvent(
                payment_id=payment.id,
                from_status=payment.status.value,
                to_status=payment.status.value,
                reason=f"now pays for {payable_reference} (was {previous})",
                actor="system",
            )
        )
