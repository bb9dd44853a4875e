"""Outgoing email: SMTP when ``FUNNEL_MAIL_HOST`` is set, else one .eml file per message in
the instance outbox (development). Services send with ``on_commit(lambda: send_email(...))``
so that no email leaves for work that was rolled back."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from flask import current_app

from funnel.core import clock

# How every email job is retried when the mail server fails: backing off up to 10 minutes,
# five times (``@shared_task(name=..., **EMAIL_RETRIES)``).
EMAIL_RETRIES: dict[str, Any] = {
    "autoretry_for": (OSError, smtplib.SMTPException),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 5,
}


def build_message(to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = clock.utcnow()
    message["Message-ID"] = make_msgid(domain="funnel.local")
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def send_email(to: str, subject: str, text: str, html: str | None = None) -> None:
    """Deliver one message now (SMTP or outbox). Raises OSError/SMTPException on failure."""
    message = build_message(to, subject, text, html)
    config = current_app.config
    if config.get("MAIL_HOST"):
        with smtplib.SMTP(config["MAIL_HOST"], config["MAIL_PORT"], timeout=10) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(message)
        return
    outbox = Path(config["MAIL_OUTBOX"])
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = clock.utcnow().strftime("%Y%m%dT%H%M%S%f")
    message_id = str(message["Message-ID"]).strip("<>").split("@")[0]
    (outbox / f"{stamp}-{message_id}.eml").write_bytes(bytes(message))
