"""What the orders services take and return: small immutable values."""

from __future__ import annotations

from dataclasses import dataclass

from funnel.core.money import Money
from funnel.orders.models import OrderStatus


@dataclass(frozen=True)
class OrderLineInput:
    """One line to place, priced by the caller from the catalogue (never from the client).

    ``product_title`` and ``variant_label`` (e.g. ``"M / Red"``) are copied into the order, so
    that it reads the same after the catalogue changes. ``unit_price`` times ``quantity`` is
    the line total.
    """

    variant_id: int | None
    sku: str
    product_title: str
    variant_label: str
    unit_price: Money
    quantity: int


@dataclass(frozen=True)
class RefundLineInput:
    """Units of one order line to refund; ``restock``: they come back and go on the shelf."""

    order_line_id: int
    quantity: int
    restock: bool = False


@dataclass(frozen=True)
class OrderChange:
    """An order after a workflow step. ``changed`` is False when the step had already been
    taken (a repeated or concurrent call): nothing was written, no email was sent."""

    order_id: int
    number: str
    previous_status: OrderStatus
    status: OrderStatus
    changed: bool


@dataclass(frozen=True)
class OrderRefund:
    """``refund_order``'s outcome: the amount refunded by this call (zero for a replay of the
    same idempotency key), what the payment has refunded in all, the order's change, and the
    refund's record (``refund_id``: its lines; the first request's for a replay)."""

    change: OrderChange
    amount: Money
    refunded_total: Money
    is_full: bool
    stock_returned: bool
    refund_id: int | None = None


@dataclass(frozen=True)
class ShipmentOutcome:
    """``ship_items``'s outcome: the shipment (made now, or by the first of two identical
    requests: ``changed`` False, nothing written, no email) and the order after it."""

    shipment_id: int
    units: int
    change: OrderChange
    changed: bool


@dataclass(frozen=True)
class ShipmentDetails:
    """How an order shipped in full left: the carrier (a code of ``carriers.CARRIERS``) and
    its tracking number; another carrier's name and link."""

    carrier: str
    tracking_number: str = ""
    carrier_name: str = ""
    tracking_url: str = ""
