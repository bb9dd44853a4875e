"""The email telling a customer that a charge the shop could not honour was refunded.

Reconciliation sends it when it refunds a charge whose payment names an order or a checkout
with the customer's email: the money was taken, no paid order came of it, and the customer
would otherwise see a charge and its refund with no word from the shop. It is scheduled in the
transaction that records the finding, so a second run (which finds the finding recorded)
sends nothing.
"""

from __future__ import annotations

import logging

from celery import shared_task
from flask import render_template

from funnel.core import metrics
from funnel.core.mail import EMAIL_RETRIES, send_email
from funnel.core.money import Money
from funnel.core.outbox import send_after_commit
from funnel.settings.queries import current_settings

log = logging.getLogger(__name__)

SEND_CHARGE_REFUNDED_EMAIL = "funnel.checkout.send_charge_refunded_email"
KIND = "charge_refunded"


@shared_task(name=SEND_CHARGE_REFUNDED_EMAIL, **EMAIL_RETRIES)
def send_charge_refunded_email(
    to: str, amount_minor: int, currency: str, order_number: str | None, reason: str
) -> None:
    """Tell ``to`` that their charge of ``amount_minor`` was refunded, and why (retried when
    SMTP fails)."""
    shop = current_settings()
    context = {
        "shop": shop,
        "shop_name": shop.shop_name,
        "amount": Money(amount_minor, currency),
        "order_number": order_number,
        "reason": reason,
    }
    subject = (
        f"Order {order_number}: your payment is refunded"
        if order_number
        else f"{shop.shop_name}: your payment is refunded"
    )
    text = render_template("emails/checkout/charge_refunded.txt", **context)
    html = render_template("emails/checkout/charge_refunded.html", **context)
    try:
        send_email(to, subject, text, html)
    except Exception:
        metrics.email_sent(KIND, is_sent=False)
        raise
    metrics.email_sent(KIND, is_sent=True)
    log.info("told the customer of order %s that their charge was refunded", order_number)


def schedule_charge_refunded_email(
    to: str, amount: Money, order_number: str | None, reason: str
) -> None:
    """Send the email job after the current transaction commits (through the outbox with a
    broker, so a broker outage loses no email)."""
    send_after_commit(
        SEND_CHARGE_REFUNDED_EMAIL, to, amount.amount, amount.currency, order_number, reason
    )
