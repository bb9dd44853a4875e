"""Order tables: orders, their lines and status events (``order``), the parcels they leave in
(``shipments``), the refunds they had (``refunds``) and the customers' return requests
(``returns``). Every name is importable from here."""

from funnel.orders.models.order import (
    CARRIER_CODE_LENGTH,
    CARRIER_NAME_LENGTH,
    EMAIL_LENGTH,
    NOTE_LENGTH,
    NUMBER_LENGTH,
    ON_DELIVERY_TRANSITIONS,
    REFUND_KEY_LENGTH,
    REQUEST_KEY_LENGTH,
    STAFF_TARGETS,
    STATUS_LABELS,
    TRACKING_NUMBER_LENGTH,
    TRACKING_URL_LENGTH,
    TRANSITIONS,
    VISITOR_ID_LENGTH,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
)
from funnel.orders.models.refunds import Refund, RefundLine, RefundStatus
from funnel.orders.models.returns import (
    OPEN_RETURN_STATUSES,
    RETURN_NUMBER_LENGTH,
    RETURN_TRANSITIONS,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
)
from funnel.orders.models.shipments import Shipment, ShipmentLine

__all__ = [
    "CARRIER_CODE_LENGTH",
    "CARRIER_NAME_LENGTH",
    "EMAIL_LENGTH",
    "NOTE_LENGTH",
    "NUMBER_LENGTH",
    "ON_DELIVERY_TRANSITIONS",
    "OPEN_RETURN_STATUSES",
    "REFUND_KEY_LENGTH",
    "REQUEST_KEY_LENGTH",
    "RETURN_NUMBER_LENGTH",
    "RETURN_TRANSITIONS",
    "STAFF_TARGETS",
    "STATUS_LABELS",
    "TRACKING_NUMBER_LENGTH",
    "TRACKING_URL_LENGTH",
    "TRANSITIONS",
    "VISITOR_ID_LENGTH",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderStatus",
    "Refund",
    "RefundLine",
    "RefundStatus",
    "ReturnLine",
    "ReturnRequest",
    "ReturnStatus",
    "Shipment",
    "ShipmentLine",
]
