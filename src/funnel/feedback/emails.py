"""The reply staff write to a shopper's feedback, sent by email after the reply is committed.

It names the shop (its ``shop_name`` setting) and quotes what the shopper wrote, so that the
answer reads on its own in a mailbox.
"""

from __future__ import annotations

import logging
import smtplib

from flask import render_template

from funnel.core import metrics
from funnel.core.mail import send_email
from funnel.settings.queries import current_settings

log = logging.getLogger(__name__)

TEMPLATE = "feedback_reply"


def send_reply_email(to: str, reply: str, message: str) -> None:
    shop = current_settings()
    context = {"shop": shop, "shop_name": shop.shop_name, "reply": reply, "message": message}
    text = render_template("emails/feedback/reply.txt", **context)
    html = render_template("emails/feedback/reply.html", **context)
    try:
        send_email(to, f"{shop.shop_name} answered your feedback", text, html)
    except (OSError, smtplib.SMTPException):
        # The reply is recorded and shown on the staff page; a lost email must not turn the
        # page into an error.
        log.exception("could not send the feedback reply email")
        metrics.email_sent(TEMPLATE, is_sent=False)
        return
    metrics.email_sent(TEMPLATE, is_sent=True)
