"""Checkout use cases: the only code that writes checkouts (see each docstring).

Steps (``steps``): ``start_checkout``, ``set_address``, ``set_shipping_method``,
``confirm_review``. Paying (``paying``): ``submit_payment``, the one use case behind the pay
form and the API's ``complete``: ``place_order`` (one transaction, ``placing``), then ``pay``
(outside any transaction: the gateway, ``outcomes``); ``return_from_confirmation`` after
3-D Secure; ``receive_webhook`` for the gateways' notifications. The job: ``expire_checkouts``.
"""

from funnel.checkout.services.jobs import expire_checkouts
from funnel.checkout.services.outcomes import (
    CheckoutOutcome,
    OutcomeKind,
    apply_result,
    fail_attempt,
    pay,
    receive_webhook,
    return_from_confirmation,
)
from funnel.checkout.services.paying import CardInput, submit_payment
from funnel.checkout.services.placing import RETURN_PATH, PlacedOrder, payment_key, place_order
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
    "CheckoutOutcome",
    "OutcomeKind",
    "PlacedOrder",
    "apply_result",
    "checked_address",
    "confirm_review",
    "expire_checkouts",
    "fail_attempt",
    "pay",
    "payment_key",
    "place_order",
    "receive_webhook",
    "return_from_confirmation",
    "set_address",
    "set_shipping_method",
    "start_checkout",
    "submit_payment",
]
