"""Reads of orders (no writes): for the customer's pages, staff pages, emails and jobs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from funnel.accounts.permissions import Permission
from funnel.core.money import Money
from funnel.core.pagination import Page, paginate
from funnel.extensions import db
from funnel.orders.errors import OrderNotFound, ShipmentNotFound
from funnel.orders.listing import SEARCH_LENGTH, OrderFilters, day_after_start, day_start
from funnel.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Refund,
    RefundLine,
    RefundStatus,
    Shipment,
    ShipmentLine,
)
from funnel.orders.numbers import normalise_number
from funnel.payments import queries as payment_queries
from funnel.payments.gateways import enabled_gateways
from funnel.payments.models import Payment, PaymentStatus, PaymentTransaction
from funnel.settings.queries import current_settings

CUSTOMER_PAGE_SIZE = 20
STAFF_PAGE_SIZE = 50


@dataclass(frozen=True)
class OrderDetails:
    """Everything an order page shows: the order, its lines, its history and its payments."""

    order: Order
    lines: list[OrderLine]
    events: list[OrderEvent]
    payments: list[Payment]
    live_payment: Payment | None
    payment_method: str
    shipments: list[Shipment] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)

    @property
    def refunded_quantities(self) -> dict[int, int]:
        """Units refunded per order line id (refunds under way count: their units are
        taken), every line, 0 when none."""
        refunded = {line.id: 0 for line in self.lines}
        for refund in self.refunds:
            for refund_line in refund.lines:
                refunded[refund_line.order_line_id] += refund_line.quantity
        return refunded

    @property
    def restocked_quantities(self) -> dict[int, int]:
        """Units back in stock per order line id, through refunds that went through."""
        restocked = {line.id: 0 for line in self.lines}
        for refund in self.refunds:
            if refund.status != RefundStatus.SUCCEEDED:
                continue
            for refund_line in refund.lines:
                if refund_line.is_restocked:
                    restocked[refund_line.order_line_id] += refund_line.quantity
        return restocked

    @property
    def refundable_quantities(self) -> dict[int, int]:
        """Units left to refund per order line id."""
        refunded = self.refunded_quantities
        return {line.id: line.quantity - refunded[line.id] for line in self.lines}

    @property
    def is_shipping_refunded(self) -> bool:
        return any(refund.shipping_minor > 0 for refund in self.refunds)

    @property
    def shipped_quantities(self) -> dict[int, int]:
        """Units shipped so far per order line id (every line, 0 when none)."""
        return shipped_by_line(self.lines, self.shipments)

    @property
    def remaining_quantities(self) -> dict[int, int]:
        """Units left to ship per order line id."""
        shipped = self.shipped_quantities
        return {line.id: line.quantity - shipped[line.id] for line in self.lines}

    @property
    def paid_so_far(self) -> Money:
        """Received so far: a bank transfer's parts, or all of it once paid."""
        if self.live_payment is not None:
            return self.live_payment.received
        return self.order.total if self.order.paid_at else Money.zero(self.order.currency)

    @property
    def still_due(self) -> Money:
        """Left to pay: zero once the order is paid, cancelled or refunded."""
        if self.order.paid_at or self.order.status in {OrderStatus.CANCELLED, OrderStatus.REFUNDED}:
            return Money.zero(self.order.currency)
        return self.order.total - self.paid_so_far

    @property
    def receipts(self) -> list[PaymentTransaction]:
        """The bank transfer's sums received, each with its day."""
        payment = self.live_payment
        is_transfer = payment is not None and payment.gateway == "manual"
        return payment_queries.bank_transfer_receipts(payment.id) if is_transfer else []

    @property
    def staff_actions(self) -> frozenset[str]:
        """The staff steps the order's status (and payment) allow now: ``record_payment``,
        ``fulfil``, ``deliver``, ``cancel``, ``refund``. A cash-on-delivery order ships
        unpaid, and its ``deliver`` step records the cash."""
        status = self.order.status
        allowed = self.order.transitions
        payment = self.live_payment
        actions = set()
        if (
            status == OrderStatus.PENDING_PAYMENT
            and payment is not None
            and payment.gateway == "manual"
            and payment.status == PaymentStatus.PENDING
        ):
            actions.add("record_payment")
        if OrderStatus.FULFILLED in allowed:
            actions.add("fulfil")
        if OrderStatus.DELIVERED in allowed:
            actions.add("deliver")
        if OrderStatus.CANCELLED in allowed and not self.shipments:
            actions.add("cancel")
        if (
            OrderStatus.REFUNDED in allowed
            and payment is not None
            and payment.status in {PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED}
        ):
            actions.add("refund")
        return frozenset(actions)

    def staff_actions_for(self, permissions: frozenset[Permission]) -> frozenset[str]:
        """``staff_actions`` that a holder of ``permissions`` may take: the same rules as the
        orders services, so a page never offers a step the service would refuse (a refund,
        or cancelling a paid order, which refunds it, needs ``orders.refund``)."""
        actions = set(self.staff_actions)
        if Permission.ORDERS_FULFIL not in permissions:
            actions -= {"record_payment", "fulfil", "deliver", "cancel"}
        if Permission.ORDERS_REFUND not in permissions:
            actions.discard("refund")
            if self.order.status == OrderStatus.PAID or self.paid_so_far.amount:
                actions.discard("cancel")
        return frozenset(actions)


def find_order(number: str) -> Order | None:
    """The order with ``number`` (as typed: case and look-alikes forgiven), if any."""
    canonical = normalise_number(number, current_settings().order_number_prefix)
    if canonical is None:
        return None
    return db.session.scalar(select(Order).where(Order.number == canonical))


def get_order(number: str) -> Order:
    """Raises OrderNotFound."""
    order = find_order(number)
    if order is None:
        raise OrderNotFound()
    return order


def get_order_of_user(number: str, user_id: int) -> Order:
    """The user's own order. Raises OrderNotFound, also when it is someone else's order (the
    same answer as for a number that does not exist, so that numbers cannot be probed)."""
    order = find_order(number)
    if order is None or order.user_id is None or order.user_id != user_id:
        raise OrderNotFound()
    return order


def order_lines(order: Order) -> list[OrderLine]:
    return list(
        db.session.scalars(
            select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)
        )
    )


def order_events(order: Order) -> list[OrderEvent]:
    """The order's history, oldest first."""
    return list(
        db.session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
        )
    )


def payment_method_label(gateway: str) -> str:
    for enabled in enabled_gateways():
        if enabled.name == gateway:
            return str(enabled.label)
    labels = {"manual": "Bank transfer", "cod": "Cash on delivery"}
    return {**labels, "test": "Card"}.get(gateway, gateway)


def order_shipments(order: Order) -> list[Shipment]:
    """The order's shipments, oldest first, with their lines and those lines' order lines."""
    return list(
        db.session.scalars(
            select(Shipment)
            .where(Shipment.order_id == order.id)
            .options(selectinload(Shipment.lines).selectinload(ShipmentLine.order_line))
            .order_by(Shipment.id)
        )
    )


def has_shipments(order_id: int) -> bool:
    """Whether any unit of the order has shipped (then it can no longer be cancelled)."""
    return (
        db.session.scalar(select(Shipment.id).where(Shipment.order_id == order_id).limit(1))
        is not None
    )


def get_shipment(order: Order, shipment_id: int) -> Shipment:
    """One shipment of ``order`` (with its lines). Raises ShipmentNotFound, also for another
    order's shipment."""
    for shipment in order_shipments(order):
        if shipment.id == shipment_id:
            return shipment
    raise ShipmentNotFound()


def shipment_request(order_id: int, request_key: str) -> Shipment | None:
    """The shipment a request with ``request_key`` made for the order, if any."""
    return db.session.scalar(
        select(Shipment).where(Shipment.order_id == order_id, Shipment.request_key == request_key)
    )


def shipped_by_line(lines: Sequence[OrderLine], shipments: Sequence[Shipment]) -> dict[int, int]:
    """Units shipped per order line id, over ``shipments`` (every line, 0 when none)."""
    shipped = {line.id: 0 for line in lines}
    for shipment in shipments:
        for shipment_line in shipment.lines:
            shipped[shipment_line.order_line_id] += shipment_line.quantity
    return shipped


def order_refunds(order: Order | int) -> list[Refund]:
    """The order's refunds, oldest first, with their lines and those lines' order lines
    (refunds made before refunds were recorded by line have no rows)."""
    order_id = order if isinstance(order, int) else order.id
    return list(
        db.session.scalars(
            select(Refund)
            .where(Refund.order_id == order_id)
            .options(selectinload(Refund.lines).selectinload(RefundLine.order_line))
            .order_by(Refund.id)
        )
    )


def get_refund(order_id: int, refund_id: int) -> Refund:
    """One refund of the order, with its lines. Raises OrderNotFound, also for another
    order's refund."""
    for refund in order_refunds(order_id):
        if refund.id == refund_id:
            return refund
    raise OrderNotFound()


def order_details(order: Order) -> OrderDetails:
    return OrderDetails(
        order=order,
        lines=order_lines(order),
        shipments=order_shipments(order),
        refunds=order_refunds(order),
        events=order_events(order),
        payments=payment_queries.payments_for(order.number),
        live_payment=payment_queries.live_payment_for(order.number),
        payment_method=payment_method_label(order.payment_gateway),
    )


def _newest_first(statement: Select[tuple[Order]]) -> Select[tuple[Order]]:
    return statement.order_by(Order.placed_at.desc(), Order.id.desc())


def orders_of_user(user_id: int, page: int, size: int = CUSTOMER_PAGE_SIZE) -> Page[Order]:
    """The user's orders, newest first."""
    statement = _newest_first(select(Order).where(Order.user_id == user_id))
    return paginate(db.session, statement, page, size)


def item_counts(order_ids: list[int]) -> dict[int, int]:
    """Units bought per order (summed over its lines), for lists of orders: one query."""
    if not order_ids:
        return {}
    rows = db.session.execute(
        select(OrderLine.order_id, func.sum(OrderLine.quantity))
        .where(OrderLine.order_id.in_(order_ids))
        .group_by(OrderLine.order_id)
    )
    counts = {order_id: int(total or 0) for order_id, total in rows.tuples()}
    return {order_id: counts.get(order_id, 0) for order_id in order_ids}


# A whole address as staff paste it from an email: searched exactly, not as a part.
WHOLE_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")


def search_orders(
    filters: OrderFilters | None = None, *, page: int = 1, size: int = STAFF_PAGE_SIZE
) -> Page[Order]:
    """Orders for staff, newest first, that match every filter given (see ``OrderFilters``):
    a status; a fulfilment state; a payment method (gateway name); placed from the first
    UTC day to the last, both included; and ``search``: an order number (exactly), a whole
    email address (exactly: the customer's orders, found through the index, not by reading
    every order), or a part of the customer's email or of the ship-to name, in any letter
    case, every character taken literally (``%`` and ``_`` are not wildcards). One COUNT and
    one page query."""
    filters = filters or OrderFilters()
    statement = select(Order)
    if filters.status is not None:
        statement = statement.where(Order.status == filters.status)
    if filters.fulfilment is not None:
        statement = statement.where(Order.status.in_(filters.fulfilment.statuses))
    if filters.payment_method:
        statement = statement.where(Order.payment_gateway == filters.payment_method)
    if filters.placed_from is not None:
        statement = statement.where(Order.placed_at >= day_start(filters.placed_from))
    if filters.placed_to is not None:
        statement = statement.where(Order.placed_at < day_after_start(filters.placed_to))
    text = filters.search.strip()[:SEARCH_LENGTH].lower()
    if WHOLE_EMAIL.fullmatch(text):
        statement = statement.where(Order.email == text)  # stored in lower case
    elif text:
        conditions = [
            Order.email.contains(text, autoescape=True),  # stored in lower case
            func.lower(Order.ship_full_name).contains(text, autoescape=True),
        ]
        number = normalise_number(text, current_settings().order_number_prefix)
        if number is not None:
            conditions.append(Order.number == number)
        statement = statement.where(or_(*conditions))
    return paginate(db.session, _newest_first(statement), page, size)


def order_with_lines(order_id: int) -> Order:
    """The order with its lines loaded (for emails). Raises OrderNotFound."""
    order = db.session.scalar(
        select(Order)
        .where(Order.id == order_id)
        .options(selectinload(Order.lines))
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise OrderNotFound()
    return order


# The customer overview has a module of its own; callers read it from here too.
from funnel.orders.queries.customers import (  # noqa: E402
    CustomerOverview as CustomerOverview,
)
from funnel.orders.queries.customers import (  # noqa: E402
    customer_overview as customer_overview,
)
