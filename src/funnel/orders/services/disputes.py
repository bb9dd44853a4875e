"""A card holder's bank disputing an order's payment: noted in the order's history, and the
staff who may refund are told by email. The status does not change: the money is held by the
gateway until the bank decides, and staff answer with evidence in the gateway's dashboard."""

from __future__ import annotations

from datetime import datetime

from funnel.core.database import transaction
from funnel.core.money import Money
from funnel.orders.emails import schedule_dispute_email
from funnel.orders.services.state import lock_order, record_event


def record_dispute(
    number: str, *, dispute_id: str, amount: Money, reason: str, respond_by: datetime | None
) -> None:
    """Note on order ``number`` that its payment is disputed (``dispute_id`` at the gateway,
    ``amount`` held, the bank's ``reason``, evidence due by ``respond_by``) and email the staff
    who may refund once the transaction commits. Joins the caller's transaction; the caller
    records the gateway's event once, so a replayed event notes nothing twice.

    Raises OrderNotFound.
    """
    with transaction():
        order = lock_order(number)
        deadline = "" if respond_by is None else f"; evidence due by {respond_by:%Y-%m-%d}"
        record_event(
            order,
            order.status,
            order.status,
            actor_user_id=None,
            note=(
                f"Payment disputed by the card holder's bank ({reason}): "
                f"{amount.format()} held by the gateway{deadline} [{dispute_id}]"
            ),
        )
        schedule_dispute_email(order.id, amount, reason, respond_by)
