"""One entry point for a staff member moving an order to a status (the staff API's
transitions): each target status is the workflow step that reaches it."""

from __future__ import annotations

from datetime import date

from funnel.core.money import Money
from funnel.orders.errors import InvalidOrderInput
from funnel.orders.models import STAFF_TARGETS, Order, OrderStatus
from funnel.orders.services.bank_transfers import record_manual_payment
from funnel.orders.services.cancellation import cancel_order
from funnel.orders.services.results import OrderChange, ShipmentDetails
from funnel.orders.services.shipping import fulfil_order
from funnel.orders.services.workflow import mark_delivered

# The statuses staff move an order to by a step of their own; ``refunded`` is a refund.


def move_order(
    order: Order | int | str,
    to: OrderStatus | str,
    *,
    actor_user_id: int,
    note: str = "",
    amount_received: Money | None = None,
    received_on: date | None = None,
    is_partial: bool = False,
    request_key: str | None = None,
    shipment: ShipmentDetails | None = None,
) -> OrderChange:
    """Take the step that brings ``order`` to ``to``: ``paid`` records a bank transfer (or
    cash) received, ``fulfilled`` ships all of it (``shipment``: the carrier and tracking number,
    required; ``note`` goes with them),
    ``delivered`` (a cash-on-delivery order is paid then: ``amount_received`` is the cash),
    ``cancelled`` (``note`` is the reason, required; a paid order is refunded in full).
    ``amount_received`` belongs to ``paid`` and ``delivered`` only; ``received_on``,
    ``is_partial`` and ``request_key`` (how a retry is recognised) to ``paid``. Call outside
    ``transaction()``.
    Raises InvalidOrderInput (another target, a stray amount), and the errors of
    ``record_manual_payment``, ``fulfil_order``, ``mark_delivered``, ``cancel_order``
    (InvalidOrderTransition for a step the status does not allow, PermissionDenied).
    Side effects: those of the step.
    """
    try:
        target = OrderStatus(to)
    except ValueError:
        target = None
    if target not in STAFF_TARGETS:
        choices = ", ".join(status.value for status in STAFF_TARGETS)
        raise InvalidOrderInput(fields={"to": [f"Choose one of: {choices}."]})
    if amount_received is not None and target not in {OrderStatus.PAID, OrderStatus.DELIVERED}:
        raise InvalidOrderInput(
            fields={"amount_received": ["Only a payment received has an amount."]}
        )
    if shipment is not None and target != OrderStatus.FULFILLED:
        raise InvalidOrderInput(fields={"carrier": ["Only shipping names a carrier."]})
    if (received_on is not None or is_partial) and target != OrderStatus.PAID:
        raise InvalidOrderInput(
            fields={"received_on": ["Only a bank transfer received has a date and parts."]}
        )
    if target == OrderStatus.PAID:
        return record_manual_payment(
            order,
            actor_user_id=actor_user_id,
            amount_received=amount_received,
            received_on=received_on,
            is_partial=is_partial,
            request_key=request_key,
            note=note,
        )
    if target == OrderStatus.FULFILLED:
        given = shipment or ShipmentDetails(carrier="")
        return fulfil_order(
            order,
            actor_user_id=actor_user_id,
            note=note,
            carrier=given.carrier,
            tracking_number=given.tracking_number,
            carrier_name=given.carrier_name,
            tracking_url=given.tracking_url,
        )
    if target == OrderStatus.DELIVERED:
        return mark_delivered(
            order, actor_user_id=actor_user_id, note=note, amount_received=amount_received
        )
    return cancel_order(order, reason=note, actor_user_id=actor_user_id)
