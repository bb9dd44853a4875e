"""Order use cases: the only code that writes orders (see each docstring for errors and
side effects).

For the checkout (inside its own transaction):

- ``place_order(...) -> Order``: the order, ``pending_payment``, with its lines;
- ``mark_paid(order) -> OrderChange``: when its payment succeeds (idempotent);
- ``send_order_placed_email(order)``: "awaiting your bank transfer", after the commit.

For staff and jobs (outside any transaction: they may call the payment gateway):
``record_manual_payment``, ``fulfil_order``, ``mark_delivered``, ``cancel_order``,
``refund_order`` (by lines, each perhaps back to stock, and the shipping, or by an amount;
a staff request's key from ``refund_request_key``), ``ship_items`` (a
partial or complete shipment with carrier and tracking; a staff request's key from
``shipment_request_key``),
``cancel_overdue_manual_orders``; ``cancel_by_customer`` (``may_customer_cancel``: the
customer's button); ``move_order`` takes whichever of those steps reaches a
status (the staff API's transitions).

Every status change is a conditional UPDATE on a locked row and writes an OrderEvent; a step
the status does not allow raises InvalidOrderTransition; repeating a step already taken
returns ``changed`` False.

Returns: ``request_return`` (the customer's request), ``move_return`` (staff: approve,
reject, receive with units back to stock); ``refund_order(..., return_number=...)`` refunds
a received return and marks it refunded.
"""

from funnel.orders.models import STAFF_TARGETS
from funnel.orders.services.bank_transfers import record_manual_payment, shop_today
from funnel.orders.services.cancellation import (
    cancel_by_customer,
    cancel_order,
    cancel_overdue_manual_orders,
    may_customer_cancel,
)
from funnel.orders.services.disputes import record_dispute
from funnel.orders.services.ownership import attach_guest_orders
from funnel.orders.services.placing import place_order, send_order_placed_email
from funnel.orders.services.refunds import RefundSource, refund_order, refund_request_key
from funnel.orders.services.results import (
    OrderChange,
    OrderLineInput,
    OrderRefund,
    RefundLineInput,
    ShipmentDetails,
    ShipmentOutcome,
)
from funnel.orders.services.returns import (
    STAFF_RETURN_TARGETS,
    ReturnChange,
    move_return,
    request_return,
)
from funnel.orders.services.shipping import (
    ShipmentSource,
    fulfil_order,
    ship_items,
    shipment_request_key,
)
from funnel.orders.services.steps import move_order
from funnel.orders.services.workflow import (
    mark_delivered,
    mark_paid,
)

__all__ = [
    "STAFF_RETURN_TARGETS",
    "STAFF_TARGETS",
    "OrderChange",
    "OrderLineInput",
    "OrderRefund",
    "RefundLineInput",
    "RefundSource",
    "ReturnChange",
    "ShipmentDetails",
    "ShipmentOutcome",
    "ShipmentSource",
    "attach_guest_orders",
    "cancel_by_customer",
    "cancel_order",
    "cancel_overdue_manual_orders",
    "fulfil_order",
    "mark_delivered",
    "mark_paid",
    "may_customer_cancel",
    "move_order",
    "move_return",
    "place_order",
    "record_dispute",
    "record_manual_payment",
    "refund_order",
    "refund_request_key",
    "request_return",
    "send_order_placed_email",
    "ship_items",
    "shipment_request_key",
    "shop_today",
]
