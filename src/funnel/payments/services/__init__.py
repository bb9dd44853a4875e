"""Payment use cases: the only code that writes payments.

For checkout (see each function's docstring for errors and side effects):

- ``create_payment(...) -> Payment``: record a pending payment (joins your transaction);
- ``submit_payment(payment_id, card) -> PaymentResult``: send it to the gateway;
- ``start_payment(...) -> PaymentResult``: both at once;
- ``confirm_payment_action(payment_id) -> PaymentResult``: after 3-D Secure, at the return URL;
- ``apply_gateway_webhook(gateway, raw_body, headers) -> PaymentResult | None``: the webhook
  endpoint's one call (None: a replay);
- ``capture_payment``, ``void_payment``, ``refund_payment``, ``mark_manual_payment_received``;
- ``record_bank_transfer``: a bank transfer's sum received, perhaps a part (``Receipt``);
- ``reconcile_payment(payment_id) -> PaymentResult``: ask the gateway about a payment whose
  answer was lost (sent, no gateway id), and record it;
- ``record_found_charge``, ``refund_stray_charge``: a charge in the gateway's records that our
  books do not show as taken (reconciliation: ``charges``);
- ``assign_payable(payment_id, reference)``: what the payment pays for, named once it exists
  (a checkout's attempt becomes its order; joins your transaction).

Functions that call a gateway run outside ``transaction()`` (no lock is held over the network).
"""

from funnel.payments.services.charges import (
    charge_refund_key,
    record_found_charge,
    refund_stray_charge,
)
from funnel.payments.services.gateway_events import apply_gateway_webhook
from funnel.payments.services.payables import assign_payable
from funnel.payments.services.payments import (
    capture_payment,
    confirm_payment_action,
    create_payment,
    start_payment,
    submit_payment,
    void_payment,
)
from funnel.payments.services.receipts import (
    Receipt,
    mark_manual_payment_received,
    record_bank_transfer,
)
from funnel.payments.services.refunds import refund_payment
from funnel.payments.services.results import (
    PaymentChange,
    PaymentResult,
    RefundResult,
)
from funnel.payments.services.submissions import reconcile_payment

__all__ = [
    "PaymentChange",
    "PaymentResult",
    "Receipt",
    "RefundResult",
    "apply_gateway_webhook",
    "assign_payable",
    "capture_payment",
    "charge_refund_key",
    "confirm_payment_action",
    "create_payment",
    "mark_manual_payment_received",
    "reconcile_payment",
    "record_bank_transfer",
    "record_found_charge",
    "refund_payment",
    "refund_stray_charge",
    "start_payment",
    "submit_payment",
    "void_payment",
]
