"""Shipping an order, all at once or a few lines and units at a time (partial fulfilment).

Each call records one ``Shipment`` (carrier, tracking number and link, its lines) under the
order's lock, writes an OrderEvent, and when nothing is left to ship moves the order to
``fulfilled`` through the state machine. The customer is emailed a shipping confirmation
after the commit. A request carries a one-time key: the same request ships once, however
often it arrives (a double click, a retried API call).

An order whose card payment is only authorised (the shop captures at fulfilment) is captured
first, outside the transaction (``capture``): the request is checked before, so a shipment
that would be refused takes no money, and a capture that fails records no shipment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from enum import StrEnum

from funnel.accounts.permissions import Permission
from funnel.core import clock
from funnel.extensions import db
from funnel.orders import queries
from funnel.orders.carriers import CARRIERS, OTHER, TRACKING_NUMBER_PATTERN, is_web_link
from funnel.orders.emails import schedule_order_email
from funnel.orders.errors import InvalidOrderInput, ShipmentExceedsOrder
from funnel.orders.models import (
    CARRIER_NAME_LENGTH,
    NOTE_LENGTH,
    TRACKING_URL_LENGTH,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentLine,
)
from funnel.orders.services.capture import capture_held_payment, held_payment
from funnel.orders.services.results import OrderChange, ShipmentOutcome
from funnel.orders.services.state import (
    change_result,
    change_status,
    lock_order,
    order_transaction,
    read_order,
    record_event,
    transition_error,
)
from funnel.orders.services.workflow import OrderReference, check_permission

FORM_TOKEN_LENGTHS = range(16, 65)


class ShipmentSource(StrEnum):
    """Where a shipping request comes from: each keeps its own key format."""

    DASHBOARD = "dashboard"  # the order page's form, with a one-time token in the page
    STAFF_API = "staff_api"  # the staff API, with the caller's Idempotency-Key header


def shipment_request_key(source: ShipmentSource, client_key: str, *, staff_user_id: int) -> str:
    """The ``request_key`` ``ship_items`` is given for a staff request carrying ``client_key``.

    - dashboard: ``form-<token>``, the form's one-time token (16 to 64 printable ASCII
      characters, surrounding spaces ignored);
    - staff API: ``api-<staff_user_id>-<hash>``, the first 40 hex digits of the SHA-256 of the
      header: the column is bounded, and keys are per staff member.

    Raises InvalidOrderInput (field ``idempotency_key``) for a dashboard token that is not one.
    """
    key = client_key.strip()
    if source == ShipmentSource.DASHBOARD:
        if len(key) not in FORM_TOKEN_LENGTHS or not key.isascii() or not key.isprintable():
            raise InvalidOrderInput(fields={"idempotency_key": ["Reload the page and retry."]})
        return f"form-{key}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"api-{staff_user_id}-{digest}"


def ship_items(
    order: OrderReference,
    lines: Mapping[int, int] | None = None,
    *,
    carrier: str,
    tracking_number: str = "",
    actor_user_id: int | None,
    carrier_name: str = "",
    tracking_url: str = "",
    request_key: str | None = None,
    note: str = "",
) -> ShipmentOutcome:
    """Ship ``lines`` (order line id -> units; zero skips a line) of a paid order, or, with
    None, every unit left to ship, by ``carrier`` (a code of ``carriers.CARRIERS``; ``other``
    needs ``carrier_name`` and may give ``tracking_url``; a known carrier's link is built from
    its template and the tracking number).

    A request with the ``request_key`` of a shipment already made returns that shipment with
    ``changed`` False and writes nothing. Joins the caller's transaction (outside the
    capture below). Raises OrderNotFound, PermissionDenied (the actor lacks ``orders.fulfil``),
    InvalidOrderTransition (the order is not paid: unpaid, cancelled, or already shipped in
    full), InvalidOrderInput (an unknown carrier or line, a bad tracking number or link, a
    negative quantity, nothing to ship), ShipmentExceedsOrder (more units of a line than are
    left to ship), OrderPaymentNotCaptured (the order's authorised payment could not be
    captured: nothing shipped). Call outside ``transaction()`` when the order's payment may
    be only authorised. Side effects: the capture of such a payment (``capture``); a
    Shipment with its lines, an OrderEvent, when the last units go the status ``fulfilled``
    and ``fulfilled_at``; after the commit the shipping email.
    """
    check_permission(actor_user_id, Permission.ORDERS_FULFIL)
    chosen_carrier, name, number, link = _carrier_details(
        carrier, carrier_name, tracking_number, tracking_url
    )
    note = note.strip() if isinstance(note, str) else ""
    _capture_first(order, lines, actor_user_id=actor_user_id, request_key=request_key)
    return _record_shipment(
        order,
        lines,
        carrier=chosen_carrier,
        carrier_name=name,
        tracking_number=number,
        tracking_url=link,
        actor_user_id=actor_user_id,
        request_key=request_key,
        note=note,
    )


def fulfil_order(
    order: OrderReference,
    *,
    actor_user_id: int | None = None,
    note: str = "",
    carrier: str | None = None,
    tracking_number: str = "",
    carrier_name: str = "",
    tracking_url: str = "",
) -> OrderChange:
    """Ship every unit of a ``paid`` order left to ship (or a cash-on-delivery order before
    it is paid), making it ``fulfilled``. Shipping it again changes nothing (``changed``
    False). Staff steps name the ``carrier`` (a code of ``carriers.CARRIERS``, as for
    ``ship_items``) and its tracking number, which the customer's email and order page show;
    without a carrier (None: the system's shortcut) none is recorded and ``note`` says it.
    Raises OrderNotFound, InvalidOrderTransition (not paid), InvalidOrderInput (the carrier
    or tracking details, checked after the status), PermissionDenied (the actor lacks
    ``orders.fulfil``), OrderPaymentNotCaptured. Side effects: those of ``ship_items``.
    """
    check_permission(actor_user_id, Permission.ORDERS_FULFIL)
    if carrier is not None and held_payment(read_order(order)) is not None:
        # Before any money is taken (otherwise checked after the status, as always).
        _carrier_details(carrier, carrier_name, tracking_number, tracking_url)
    _capture_first(order, None, actor_user_id=actor_user_id, request_key=None)
    with order_transaction():
        locked = lock_order(order)
        if locked.status == OrderStatus.FULFILLED:
            return change_result(locked, locked.status, changed=False)
        if carrier is None:
            details: tuple[str, str, str, str | None] = (OTHER, "", "", None)
            event_note: str | None = note
        else:
            if OrderStatus.FULFILLED not in locked.transitions:
                raise transition_error(locked, OrderStatus.FULFILLED)
            details = _carrier_details(carrier, carrier_name, tracking_number, tracking_url)
            event_note = None
        code, name, number, link = details
        outcome = _record_shipment(
            locked,
            None,
            carrier=code,
            carrier_name=name,
            tracking_number=number,
            tracking_url=link,
            actor_user_id=actor_user_id,
            request_key=None,
            note=note.strip() if isinstance(note, str) else "",
            event_note=event_note,
        )
        return outcome.change


def _capture_first(
    order: OrderReference,
    lines: Mapping[int, int] | None,
    *,
    actor_user_id: int | None,
    request_key: str | None,
) -> None:
    """Capture the order's authorised payment before its shipment is recorded, once the
    shipment is known to be one the order takes (a retried request, already recorded, and a
    refused one take no money). Raises the errors of ``_units_to_ship`` and
    OrderPaymentNotCaptured."""
    current = read_order(order)
    if held_payment(current) is None:
        return
    if request_key is not None and queries.shipment_request(current.id, request_key):
        return
    order_lines = queries.order_lines(current)
    shipped = queries.shipped_by_line(order_lines, queries.order_shipments(current))
    remaining = {line.id: line.quantity - shipped[line.id] for line in order_lines}
    _units_to_ship(lines, remaining, order_lines)
    capture_held_payment(current, actor_user_id=actor_user_id)


def _record_shipment(
    order: OrderReference,
    lines: Mapping[int, int] | None,
    *,
    carrier: str,
    carrier_name: str,
    tracking_number: str,
    tracking_url: str | None,
    actor_user_id: int | None,
    request_key: str | None,
    note: str = "",
    event_note: str | None = None,
) -> ShipmentOutcome:
    with order_transaction():
        locked = lock_order(order)
        previous = locked.status
        if request_key is not None:
            earlier = queries.shipment_request(locked.id, request_key)
            if earlier is not None:
                units = queries.get_shipment(locked, earlier.id).unit_count
                return ShipmentOutcome(
                    shipment_id=earlier.id,
                    units=units,
                    change=change_result(locked, previous, changed=False),
                    changed=False,
                )
        # Paid, or a cash-on-delivery order, which ships before it is paid.
        ships_unpaid = (
            previous == OrderStatus.PENDING_PAYMENT and OrderStatus.FULFILLED in locked.transitions
        )
        if previous != OrderStatus.PAID and not ships_unpaid:
            raise transition_error(locked, OrderStatus.FULFILLED)
        order_lines = queries.order_lines(locked)
        shipped = queries.shipped_by_line(order_lines, queries.order_shipments(locked))
        remaining = {line.id: line.quantity - shipped[line.id] for line in order_lines}
        to_ship = _units_to_ship(lines, remaining, order_lines)
        shipment = Shipment(
            order_id=locked.id,
            carrier=carrier,
            carrier_name=carrier_name,
            tracking_number=tracking_number,
            tracking_url=tracking_url,
            request_key=request_key,
            shipped_at=clock.utcnow(),
            shipped_by_user_id=actor_user_id,
        )
        db.session.add(shipment)
        db.session.flush()
        db.session.add_all(
            ShipmentLine(shipment_id=shipment.id, order_line_id=line_id, quantity=quantity)
            for line_id, quantity in sorted(to_ship.items())
        )
        db.session.flush()
        units = sum(to_ship.values())
        if event_note is None:
            event_note = _event_note(units, carrier_name, tracking_number, note)
        is_complete = all(left == to_ship.get(line_id, 0) for line_id, left in remaining.items())
        changed = False
        shipped_now = {
            "shipment_id": shipment.id,
            "units": units,
            "carrier": carrier_name,
            "tracking_number": tracking_number,
        }
        if is_complete:
            changed = change_status(
                locked,
                OrderStatus.FULFILLED,
                actor_user_id=actor_user_id,
                note=event_note,
                details=shipped_now,
            )
        else:
            record_event(
                locked,
                previous,
                previous,
                actor_user_id=actor_user_id,
                note=event_note,
                action="order.shipped_partly",
                details=shipped_now,
            )
        schedule_order_email("shipped", locked.id, shipment_id=shipment.id)
        return ShipmentOutcome(
            shipment_id=shipment.id,
            units=units,
            change=change_result(locked, previous, changed),
            changed=True,
        )


def _carrier_details(
    carrier: str, carrier_name: str, tracking_number: str, tracking_url: str
) -> tuple[str, str, str, str | None]:
    """``(code, name, tracking number, tracking link)`` checked. Raises InvalidOrderInput."""
    errors: dict[str, list[str]] = {}
    code = carrier.strip().lower() if isinstance(carrier, str) else ""
    known = CARRIERS.get(code)
    number = tracking_number.strip() if isinstance(tracking_number, str) else ""
    name = carrier_name.strip() if isinstance(carrier_name, str) else ""
    link = tracking_url.strip() if isinstance(tracking_url, str) else ""
    if known is None:
        errors["carrier"] = ["Choose one of: " + ", ".join(CARRIERS) + "."]
    if number and not TRACKING_NUMBER_PATTERN.match(number):
        errors["tracking_number"] = ["Use 1 to 64 letters, digits, spaces or dashes."]
    if code == OTHER:
        if not name or len(name) > CARRIER_NAME_LENGTH:
            errors["carrier_name"] = [f"Name the carrier (at most {CARRIER_NAME_LENGTH})."]
        if link and (len(link) > TRACKING_URL_LENGTH or not is_web_link(link)):
            errors["tracking_url"] = ["Give an http or https link, or leave it blank."]
    elif link:
        errors["tracking_url"] = ["Only another carrier's link is given by hand."]
    if errors or known is None:
        raise InvalidOrderInput(fields=errors)
    if code == OTHER:
        return code, name, number, link or None
    return code, known.name, number, known.tracking_url(number)


def _units_to_ship(
    requested: Mapping[int, int] | None,
    remaining: dict[int, int],
    order_lines: list[OrderLine],
) -> dict[int, int]:
    """Order line id -> units to ship now (no zeros). Raises InvalidOrderInput,
    ShipmentExceedsOrder."""
    if requested is None:
        wanted = {line_id: units for line_id, units in remaining.items() if units > 0}
    else:
        wanted = {}
        invalid: dict[str, list[str]] = {}
        for line_id, units in requested.items():
            if line_id not in remaining:
                invalid[f"lines.{line_id}"] = ["This order has no such line."]
            elif isinstance(units, bool) or not isinstance(units, int) or units < 0:
                invalid[f"lines.{line_id}"] = ["Give a whole number of units, 0 or more."]
            elif units > 0:
                wanted[line_id] = units
        if invalid:
            raise InvalidOrderInput(fields=invalid)
    if not wanted:
        raise InvalidOrderInput(fields={"lines": ["Choose at least one unit to ship."]})
    skus = {line.id: line.sku for line in order_lines}
    over = {
        f"lines.{line_id}": [f"{skus[line_id]}: {units} asked, {remaining[line_id]} left to ship."]
        for line_id, units in wanted.items()
        if units > remaining[line_id]
    }
    if over:
        raise ShipmentExceedsOrder(" ".join(m for ms in over.values() for m in ms), fields=over)
    return wanted


def _event_note(units: int, carrier_name: str, tracking_number: str, note: str) -> str:
    text = f"shipped {units} {'item' if units == 1 else 'items'} by {carrier_name}"
    if tracking_number:
        text += f", tracking {tracking_number}"
    if note:
        text += f": {note}"
    return text[:NOTE_LENGTH]
