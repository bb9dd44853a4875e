"""Checkout use cases: the only code that writes checkouts (see each docstring).

Steps (``steps``): ``start_checkout``, ``set_address``, ``set_shipping_method``,
``confirm_review``. Paying (``paying``): ``submit_payment``, the one use case behind the pay
form and the API's ``complete``: ``start_attempt`` (one transaction, ``placing``), then ``pay``
(outside any transaction: the gateway, ``outcomes``), which places the order
(``place_attempt_order``) unless the payment failed; ``return_from_confirmation`` after
3-D Secure; ``receive_webhook`` for the gateways' notifications. The jobs: ``expire_checkouts``;
``reconcile_charges`` (``reconciling``: every gateway charge ends in a paid order or a refund),
whose findings staff resolve with ``resolve_finding`` (``findings``).
"""

from funnel.checkout.services.findings import resolve_finding
from funnel.checkout.services.jobs import expire_checkouts
from funnel.checkout.services.outcomes import (
    CheckoutOutcome,
    OutcomeKind,
    apply_result,
    fail_attempt,
    order_number_for_return,
    pay,
    receive_webhook,
    reopen_attempt,
    return_from_confirmation,
)
from funnel.checkout.services.paying import CardInput, submit_payment
from funnel.checkout.services.placing import (
    RETURN_PATH,
    PaymentAttempt,
    attempt_reference,
    parse_attempt_reference,
    payment_key,
    place_attempt_order,
    start_attempt,
)
from funnel.checkout.services.reconciling import (
    ChargeFinding,
    Finding,
    Reconciliation,
    reconcile_charges,
)
from funnel.checkout.services.steps import (
    checked_address,
    confirm_review,
    set_address,
    set_shipping_method,
    start_checkout,
)

__all__ = [
    "RETURN_PATH",
    "CardInput",
    "ChargeFinding",
    "CheckoutOutcome",
    "Finding",
    "OutcomeKind",
    "PaymentAttempt",
    "Reconciliation",
    "apply_result",
    "attempt_reference",
    "checked_address",
    "confirm_review",
    "expire_checkouts",
    "fail_attempt",
    "order_number_for_return",
    "parse_attempt_reference",
    "pay",
    "payment_key",
    "place_attempt_order",
    "receive_webhook",
    "reconcile_charges",
    "reopen_attempt",
    "resolve_finding",
    "return_from_confirmation",
    "set_address",
    "set_shipping_method",
    "start_attempt",
    "start_checkout",
    "submit_payment",
]
