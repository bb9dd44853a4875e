"""Order emails: confirmation (paid), awaiting a bank transfer (placed), confirmed to pay
on delivery (cash_on_delivery), shipped (one per shipment: its items, carrier and tracking
link), cancelled, refunded (the refund's lines, when it was made by lines), and one at each
change of a return request's status (``return_requested`` ... ``return_refunded``: the
return's items and staff's note).

Services call ``schedule_order_email(kind, order_id)``: inside a transaction the email is
enqueued after the commit (a rolled-back order sends nothing), outside one at once. The
``send_order_email`` job renders the text and HTML templates from the committed order and
sends them over SMTP; a failed delivery is retried with back-off.

Links are absolute, from ``BASE_URL`` (a worker has no request): a customer's order links to
their account page, a guest's to the signed guest page.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import shared_task
from flask import render_template

from funnel.accounts import queries as account_queries
from funnel.accounts.emails import absolute_url
from funnel.accounts.permissions import Permission
from funnel.core import metrics
from funnel.core.mail import EMAIL_RETRIES, send_email
from funnel.core.money import Money
from funnel.core.outbox import send_after_commit
from funnel.orders import queries
from funnel.orders.links import access_key
from funnel.orders.models import Order
from funnel.orders.queries import returns as return_queries
from funnel.settings.queries import current_settings

log = logging.getLogger(__name__)

SEND_ORDER_EMAIL = "funnel.orders.send_order_email"
SEND_DISPUTE_EMAIL = "funnel.orders.send_dispute_email"
SUBJECTS = {
    "confirmation": "Order {number} confirmed",
    "placed": "Order {number}: awaiting your bank transfer",
    "cash_on_delivery": "Order {number} confirmed: pay on delivery",
    "cancelled": "Order {number} cancelled",
    "refunded": "Order {number}: refund issued",
    "shipped": "Order {number} shipped",
    "return_requested": "Order {number}: we have your return request",
    "return_approved": "Order {number}: your return is approved",
    "return_rejected": "Order {number}: your return request is declined",
    "return_received": "Order {number}: we have received your return",
    "return_refunded": "Order {number}: your return is refunded",
}


def order_link(order: Order) -> str:
    """The absolute link to the order's page: the account page, or the guest's signed link."""
    if order.user_id is not None:
        return absolute_url("orders.account_order", number=order.number)
    return absolute_url("orders.guest_order", number=order.number, key=access_key(order.number))


def render_order_email(kind: str, order_id: int, **extra: Any) -> tuple[str, str, str, str]:
    """``(to, subject, text, html)`` of the ``kind`` email for an order."""
    order = queries.order_with_lines(order_id)
    events = queries.order_events(order)
    shop = current_settings()
    context = {
        "shop": shop,
        "shop_name": shop.shop_name,
        "order": order,
        "lines": order.lines,
        "link": order_link(order),
        "last_note": events[-1].note if events else "",
        **extra,
    }
    subject = SUBJECTS[kind].format(number=order.number)
    text = render_template(f"emails/orders/{kind}.txt", **context)
    html = render_template(f"emails/orders/{kind}.html", **context)
    return order.email, subject, text, html


@shared_task(name=SEND_ORDER_EMAIL, **EMAIL_RETRIES)
def send_order_email(
    kind: str,
    order_id: int,
    refund_minor: int | None = None,
    shipment_id: int | None = None,
    refund_id: int | None = None,
    return_id: int | None = None,
) -> None:
    """Send the ``kind`` email of order ``order_id`` now (retried when SMTP fails)."""
    if kind not in SUBJECTS:
        raise ValueError(f"unknown order email {kind!r}")
    extra: dict[str, Any] = {}
    if refund_minor is not None:
        extra["refund_minor"] = refund_minor
    if refund_id is not None:
        extra["refund"] = queries.get_refund(order_id, refund_id)
    if return_id is not None:
        extra["return_request"] = return_queries.get_return_of_order(order_id, return_id)
    if shipment_id is not None:
        extra["shipment"] = queries.get_shipment(queries.order_with_lines(order_id), shipment_id)
    to, subject, text, html = render_order_email(kind, order_id, **extra)
    try:
        send_email(to, subject, text, html)
    except Exception:
        metrics.email_sent(f"order_{kind}", is_sent=False)
        raise
    metrics.email_sent(f"order_{kind}", is_sent=True)
    log.info("sent the %s email of order %s", kind, order_id)


def schedule_order_email(
    kind: str,
    order_id: int,
    *,
    refund_minor: int | None = None,
    shipment_id: int | None = None,
    refund_id: int | None = None,
    return_id: int | None = None,
) -> None:
    """Send the email job after the current transaction commits (at once outside one); with a
    broker, through the outbox (``core.outbox``), so a broker outage loses no email."""
    if kind not in SUBJECTS:
        raise ValueError(f"unknown order email {kind!r}")

    # The same call shapes as before the outbox: a job sent before an upgrade still matches.
    if return_id is not None:
        send_after_commit(SEND_ORDER_EMAIL, kind, order_id, return_id=return_id)
    elif refund_id is not None:
        send_after_commit(SEND_ORDER_EMAIL, kind, order_id, refund_minor, shipment_id, refund_id)
    elif shipment_id is None:
        send_after_commit(SEND_ORDER_EMAIL, kind, order_id, refund_minor)
    else:
        send_after_commit(SEND_ORDER_EMAIL, kind, order_id, refund_minor, shipment_id)


@shared_task(name=SEND_DISPUTE_EMAIL, **EMAIL_RETRIES)
def send_dispute_email(
    order_id: int, amount_minor: int, currency: str, reason: str, respond_by: str | None
) -> None:
    """Tell the staff who may refund (``orders.refund``) that the card holder's bank disputes
    the payment of order ``order_id``: each one an email, with the staff link to the order."""
    order = queries.order_with_lines(order_id)
    recipients = account_queries.staff_emails_with(Permission.ORDERS_REFUND)
    if not recipients:
        log.warning("order %s is disputed and no staff member may refund it", order.number)
        return
    subject = f"Order {order.number}: the card holder's bank disputes the payment"
    text = render_template(
        "emails/orders/dispute_staff.txt",
        shop_name=current_settings().shop_name,
        order=order,
        amount=Money(amount_minor, currency),
        reason=reason,
        respond_by=respond_by,
        link=absolute_url("staff.order", number=order.number),
    )
    for to in recipients:
        try:
            send_email(to, subject, text)
        except Exception:
            metrics.email_sent("order_dispute", is_sent=False)
            raise
        metrics.email_sent("order_dispute", is_sent=True)
    log.info("told %d staff of the dispute of order %s", len(recipients), order.number)


def schedule_dispute_email(
    order_id: int, amount: Money, reason: str, respond_by: datetime | None
) -> None:
    """Send the staff's dispute email after the current transaction commits."""
    send_after_commit(
        SEND_DISPUTE_EMAIL,
        order_id,
        amount.amount,
        amount.currency,
        reason,
        None if respond_by is None else respond_by.date().isoformat(),
    )
