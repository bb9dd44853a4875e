"""Order errors, each with a stable ``code`` (mapped once to an HTML page or problem+json)."""

from __future__ import annotations

from funnel.core.errors import Conflict, NotFound, ValidationFailed


class OrderNotFound(NotFound):
    """No such order, or one the caller may not see (someone else's order is the same 404)."""

    code = "order_not_found"
    title = "Order not found"


class InvalidOrderTransition(Conflict):
    """The order's status does not allow this step (e.g. delivering an unpaid order)."""

    code = "invalid_order_transition"
    title = "The order cannot change to that status"


class InvalidOrder(ValidationFailed):
    """``place_order`` input that breaks a rule: no lines, totals that do not add up, mixed
    currencies, no postal address. ``fields`` names what is wrong."""

    code = "invalid_order"
    title = "The order is not valid"


class InvalidOrderInput(ValidationFailed):
    """A staff or customer action's input is not valid (an amount, a reason)."""

    code = "invalid_order_input"
    title = "Some fields are not valid"


class OrderPaymentMissing(Conflict):
    """The step needs a payment the order does not have (or not of the right kind)."""

    code = "order_payment_missing"
    title = "This order has no payment for that"


class OrderPaymentReceived(Conflict):
    """Cancelling an unpaid order found its payment already taken: refund it instead."""

    code = "order_payment_received"
    title = "The payment for this order has already been received"


class OrderPartlyShipped(Conflict):
    """Cancelling an order some of whose units have shipped: they cannot be called back, so
    the rest is shipped, or refunded line by line, instead."""

    code = "order_partly_shipped"
    title = "Part of this order has shipped"


class ShipmentExceedsOrder(ValidationFailed):
    """A shipment of more units of a line than are left to ship (``fields`` names the line:
    ``lines.<order line id>``)."""

    code = "shipment_exceeds_order"
    title = "More units than are left to ship"


class ShipmentNotFound(NotFound):
    """No such shipment on this order."""

    code = "shipment_not_found"
    title = "Shipment not found"


class RefundExceedsOrder(ValidationFailed):
    """A refund of more units of a line than are left to refund (ordered minus refunded,
    counting refunds under way), or of shipping already refunded. ``fields`` names them:
    ``lines.<order line id>``, ``shipping``."""

    code = "refund_exceeds_order"
    title = "More than is left to refund of these items"


class ReturnNotFound(NotFound):
    """No such return request (or one of an order the caller may not see)."""

    code = "return_not_found"
    title = "Return not found"


class InvalidReturnTransition(Conflict):
    """The return's status does not allow this step (e.g. receiving a rejected return, or
    refunding a return that has not been received)."""

    code = "invalid_return_transition"
    title = "The return cannot change to that status"


class InvalidReturnRequest(ValidationFailed):
    """A return the customer may not ask for: the order is not delivered, the return window
    has closed, more units than are left to return, no reason. ``fields`` names what is
    wrong (``lines``, ``lines.<order line id>``, ``reason``)."""

    code = "invalid_return_request"
    title = "This return cannot be requested"


class OrderPaymentNotCaptured(Conflict):
    """Shipping an order whose card payment is only authorised (the shop captures at
    fulfilment) needs the money first: the gateway refused the capture (declined, the
    authorisation expired) or did not answer. Nothing was shipped."""

    code = "order_payment_not_captured"
    title = "The order's payment could not be captured"
