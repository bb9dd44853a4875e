"""Return requests: a customer asks to send back units of a delivered order; staff approve or
reject the request, receive the items (some back to stock) and refund them through
``refund_order``, which marks the return refunded.

Every step locks the order row first (as every order step does), then reads the return
afresh and changes its status with a conditional UPDATE, so that two racing requests make
one change; a step already taken returns ``changed`` False and writes nothing. Staff steps
write an audit entry; each change emails the customer after the commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from funnel.accounts.permissions import Permission
from funnel.audit import services as audit
from funnel.core import clock
from funnel.extensions import db
from funnel.inventory import services as inventory
from funnel.inventory.models import MovementReason
from funnel.orders.emails import schedule_order_email
from funnel.orders.errors import (
    InvalidOrderInput,
    InvalidReturnRequest,
    InvalidReturnTransition,
    ReturnNotFound,
)
from funnel.orders.models import (
    NOTE_LENGTH,
    REQUEST_KEY_LENGTH,
    Order,
    OrderLine,
    Refund,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
)
from funnel.orders.queries import returns as return_queries
from funnel.orders.services.state import lock_order, order_transaction, read_order
from funnel.orders.services.workflow import check_permission

MAX_UNITS = 10**9
# The steps staff take by hand; ``refunded`` follows from refunding the order.
STAFF_RETURN_TARGETS = (ReturnStatus.APPROVED, ReturnStatus.REJECTED, ReturnStatus.RECEIVED)
_VERBS = {
    ReturnStatus.APPROVED: "approved",
    ReturnStatus.REJECTED: "rejected",
    ReturnStatus.RECEIVED: "received",
    ReturnStatus.REFUNDED: "refunded",
}
_STAMPS = {
    ReturnStatus.APPROVED: "decided_at",
    ReturnStatus.REJECTED: "decided_at",
    ReturnStatus.RECEIVED: "received_at",
    ReturnStatus.REFUNDED: "refunded_at",
}


@dataclass(frozen=True)
class ReturnChange:
    """A return after a step; ``changed`` False: the step had already been taken (a double
    submit or a race), nothing was written and no email sent."""

    return_id: int
    number: str
    order_number: str
    previous_status: ReturnStatus | None
    status: ReturnStatus
    changed: bool
    restocked_units: int = 0


def request_return(
    order: Order | int | str,
    quantities: Mapping[int, int],
    *,
    reason: str,
    request_key: str | None = None,
) -> ReturnChange:
    """Ask to return ``quantities`` (units per order line id; 0 is left out) of a delivered
    order, with the customer's ``reason``. The caller has checked that the order is theirs.

    Only within the shop's return window after delivery (``return_window_days``), and never
    more units of a line than were ordered minus those refunded or in an open return. The
    same ``request_key`` again returns the first request (``changed`` False). Raises
    OrderNotFound, InvalidReturnRequest (not delivered, window closed, nothing chosen, too
    many units, no reason: ``fields`` names them), nothing written. Side effects: the return
    and its lines, numbered ``<order number>-R<n>``; the "return requested" email after
    commit.
    """
    reason = reason.strip() if isinstance(reason, str) else ""
    key = (request_key or "").strip()[:REQUEST_KEY_LENGTH] or None
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = ["Tell us why you are returning these items."]
    elif len(reason) > NOTE_LENGTH:
        errors["reason"] = [f"At most {NOTE_LENGTH} characters."]
    asked = {line_id: units for line_id, units in quantities.items() if units != 0}
    current = read_order(order)
    with order_transaction():
        locked = lock_order(current.id)
        if key is not None:
            existing = db.session.scalar(
                select(ReturnRequest).where(ReturnRequest.request_key == key)
            )
            if existing is not None and existing.order_id == locked.id:
                return _change(existing, locked, existing.status, changed=False)
            if existing is not None:
                raise InvalidReturnRequest(fields={"lines": ["Reload the page and retry."]})
        lines = list(
            db.session.scalars(
                select(OrderLine).where(OrderLine.order_id == locked.id).order_by(OrderLine.id)
            )
        )
        offer = return_queries.return_offer(locked, lines)
        if offer.reason:
            raise InvalidReturnRequest(offer.reason, fields={"lines": [offer.reason], **errors})
        for line_id, units in asked.items():
            field = f"lines.{line_id}"
            if line_id not in offer.returnable:
                errors[field] = ["Choose items of this order."]
            elif (
                isinstance(units, bool) or not isinstance(units, int) or not 0 < units <= MAX_UNITS
            ):
                errors[field] = ["Give a whole number of units, 0 or more."]
            elif units > offer.returnable[line_id]:
                left = offer.returnable[line_id]
                errors[field] = [
                    f"Only {left} of this item can be returned: the rest is already "
                    "returned, refunded or in a return request."
                    if left
                    else "This item is already returned, refunded or in a return request."
                ]
        if not asked and "lines" not in errors:
            errors["lines"] = ["Choose at least one item to return."]
        if errors:
            raise InvalidReturnRequest(fields=errors)
        sequence = (
            db.session.scalar(
                select(func.max(ReturnRequest.sequence)).where(ReturnRequest.order_id == locked.id)
            )
            or 0
        ) + 1
        created = ReturnRequest(
            order_id=locked.id,
            sequence=sequence,
            number=f"{locked.number}-R{sequence}",
            status=ReturnStatus.REQUESTED,
            reason=reason,
            staff_note="",
            request_key=key,
            created_at=clock.utcnow(),
        )
        db.session.add(created)
        db.session.flush()
        db.session.add_all(
            ReturnLine(
                return_id=created.id, order_line_id=line_id, quantity=units, restocked_quantity=0
            )
            for line_id, units in sorted(asked.items())
        )
        db.session.flush()
        schedule_order_email("return_requested", locked.id, return_id=created.id)
        return _change(created, locked, None, changed=True)


def move_return(
    number: str,
    to: ReturnStatus | str,
    *,
    actor_user_id: int | None,
    note: str = "",
    restock: Mapping[int, int] | None = None,
) -> ReturnChange:
    """Take a staff step on the return ``number``: ``approved`` or ``rejected`` (a request;
    rejecting needs a ``note``, the reason the customer reads), ``received`` (an approved
    return; ``restock``: units per order line id that go back to stock, none by default).

    Raises ReturnNotFound, PermissionDenied (``orders.fulfil``), InvalidReturnTransition (the
    status does not allow the step, or ``refunded``: refund the order for it),
    InvalidOrderInput (note missing or too long, restock out of range), and the inventory's
    refusals. Side effects: the status and its time, the note, ``returned`` stock movements
    for the restocked units, an audit entry, the customer's email after commit.
    """
    check_permission(actor_user_id, Permission.ORDERS_FULFIL)
    try:
        target = ReturnStatus(to)
    except ValueError:
        raise InvalidReturnTransition(
            f"A return moves to one of: {', '.join(s.value for s in STAFF_RETURN_TARGETS)}."
        ) from None
    if target not in STAFF_RETURN_TARGETS:
        raise InvalidReturnTransition(
            "A return becomes refunded when the order is refunded for it: use the refund form."
        )
    note = (note or "").strip() if isinstance(note, str) else ""
    if len(note) > NOTE_LENGTH:
        raise InvalidOrderInput(fields={"note": [f"At most {NOTE_LENGTH} characters."]})
    if target == ReturnStatus.REJECTED and not note:
        raise InvalidOrderInput(fields={"note": ["Tell the customer why the return is refused."]})
    found = return_queries.get_return(number)
    with order_transaction():
        order = lock_order(found.order_id)
        current = return_queries.get_return(found.number)
        previous = current.status
        if previous == target:
            return _change(current, order, previous, changed=False)
        if target not in current.transitions:
            raise _transition_error(current, target)
        units = _restock_units(current, restock or {}) if target == ReturnStatus.RECEIVED else {}
        if not _update_status(current, previous, target, staff_note=note or current.staff_note):
            return _change(return_queries.get_return(found.number), order, previous, changed=False)
        by_variant: dict[int, int] = {}
        for line in current.lines:
            if units.get(line.order_line_id):
                line.restocked_quantity = units[line.order_line_id]
                variant_id = line.order_line.variant_id
                assert variant_id is not None  # checked by _restock_units
                by_variant[variant_id] = by_variant.get(variant_id, 0) + line.restocked_quantity
        if by_variant:
            inventory.return_stock(
                order.number,
                by_variant,
                reason=MovementReason.RETURNED,
                actor_id=actor_user_id,
                note=f"return {current.number}",
            )
        after: dict[str, Any] = {"status": target.value, "note": note}
        if target == ReturnStatus.RECEIVED:
            after["restocked"] = {str(line_id): n for line_id, n in sorted(units.items()) if n}
        _audit(current, previous, target, actor_user_id, after)
        schedule_order_email(f"return_{target.value}", order.id, return_id=current.id)
        db.session.flush()
        return _change(current, order, previous, changed=True, restocked=sum(by_variant.values()))


def check_refundable(order: Order, return_number: str, request_key: str) -> ReturnRequest:
    """The return ``return_number`` of the locked ``order``, which the refund under
    ``request_key`` may settle: a received return no other refund is settling (or the one
    this key refunded already: a replay). Raises ReturnNotFound, InvalidReturnTransition."""
    current = return_queries.get_return(return_number, order.id)
    linked = None if current.refund_id is None else db.session.get(Refund, current.refund_id)
    if linked is not None and linked.request_key == request_key:
        return current
    if current.status != ReturnStatus.RECEIVED:
        raise _transition_error(current, ReturnStatus.REFUNDED)
    if linked is not None:
        raise InvalidReturnTransition(f"A refund for return {current.number} is under way.")
    return current


def hold_for_refund(current: ReturnRequest, refund: Refund) -> None:
    """Link the received return to the refund under way (the refund's ``release`` unlinks
    it if the payment refuses), so that a second refund cannot settle it too."""
    if current.refund_id is None:
        db.session.execute(
            update(ReturnRequest)
            .where(ReturnRequest.id == current.id, ReturnRequest.refund_id.is_(None))
            .values(refund_id=refund.id)
            .execution_options(synchronize_session=False)
        )
        db.session.expire(current, ["refund_id"])


def settle_with_refund(
    order: Order, return_number: str, refund: Refund, actor_user_id: int | None
) -> bool:
    """Mark the received return refunded by ``refund`` (in the refund's transaction, the
    order locked); whether it changed. Side effects: the link to the refund, an audit entry,
    the customer's email after commit."""
    current = return_queries.find_return(return_number)
    if current is None or current.order_id != order.id:
        raise ReturnNotFound()
    if current.status != ReturnStatus.RECEIVED:
        return False
    if not _update_status(
        current, ReturnStatus.RECEIVED, ReturnStatus.REFUNDED, refund_id=refund.id
    ):
        return False
    _audit(
        current,
        ReturnStatus.RECEIVED,
        ReturnStatus.REFUNDED,
        actor_user_id,
        {"status": ReturnStatus.REFUNDED.value, "refund_id": refund.id},
    )
    schedule_order_email("return_refunded", order.id, return_id=current.id)
    return True


def _restock_units(current: ReturnRequest, restock: Mapping[int, int]) -> dict[int, int]:
    """Units per order line id going back to stock; each line of the return, at most the
    units it returns. Raises InvalidOrderInput."""
    by_line = {line.order_line_id: line for line in current.lines}
    errors: dict[str, list[str]] = {}
    units: dict[int, int] = {}
    for line_id, count in restock.items():
        field = f"restock.{line_id}"
        line = by_line.get(line_id)
        if line is None:
            errors[field] = ["This item is not in the return."]
        elif (
            isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= line.quantity
        ):
            errors[field] = [f"A whole number of units from 0 to {line.quantity}."]
        elif count and line.order_line.variant_id is None:
            errors[field] = ["This product is no longer in the catalogue: no stock."]
        else:
            units[line_id] = count
    if errors:
        raise InvalidOrderInput(fields=errors)
    return units


def _update_status(
    current: ReturnRequest, previous: ReturnStatus, target: ReturnStatus, **values: Any
) -> bool:
    result = db.session.execute(
        update(ReturnRequest)
        .where(ReturnRequest.id == current.id, ReturnRequest.status == previous)
        .values(status=target, **{_STAMPS[target]: clock.utcnow()}, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(current, ["status", "staff_note", "refund_id", *_STAMPS.values()])
    return result.rowcount == 1


def _audit(
    current: ReturnRequest,
    previous: ReturnStatus,
    target: ReturnStatus,
    actor_user_id: int | None,
    after: dict[str, Any],
) -> None:
    audit.record(
        f"return.{target.value}",
        actor_user_id=actor_user_id,
        object_type="return",
        object_id=current.number,
        object_label=current.number,
        before={"status": previous.value},
        after=after,
    )


def _transition_error(current: ReturnRequest, target: ReturnStatus) -> InvalidReturnTransition:
    return InvalidReturnTransition(
        f"Return {current.number} is {current.status.label.lower()}: it cannot be {_VERBS[target]}."
    )


def _change(
    current: ReturnRequest,
    order: Order,
    previous: ReturnStatus | None,
    *,
    changed: bool,
    restocked: int = 0,
) -> ReturnChange:
    return ReturnChange(
        return_id=current.id,
        number=current.number,
        order_number=order.number,
        previous_status=previous,
        status=current.status,
        changed=changed,
        restocked_units=restocked,
    )
