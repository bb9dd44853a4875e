"""The account emails: rendered from templates, with absolute links built from BASE_URL.

Services schedule these with ``on_commit``; they run after the commit, outside any request
when a worker sends them, which is why links come from the ``BASE_URL`` setting rather than
from the current request.
"""

from __future__ import annotations

import logging
import smtplib
from urllib.parse import urlsplit

from flask import current_app, render_template

from funnel.core import metrics
from funnel.core.mail import send_email
from funnel.settings.queries import current_settings

log = logging.getLogger(__name__)


def absolute_url(endpoint: str, **values: object) -> str:
    """An absolute URL for ``endpoint`` on the shop's public address (the BASE_URL setting)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def _shop_name() -> str:
    return current_settings().shop_name


def _deliver(to: str, subject: str, template: str, **context: object) -> None:
    shop = current_settings()
    context = {"shop": shop, "shop_name": shop.shop_name, **context}
    text = render_template(f"emails/accounts/{template}.txt", **context)
    html = render_template(f"emails/accounts/{template}.html", **context)
    try:
        send_email(to, subject, text, html)
    except (OSError, smtplib.SMTPException):
        # The account change is committed; a lost email is recoverable (resend, new reset)
        # and must not turn the page into an error.
        log.exception("could not send the %s email", template)
        metrics.email_sent(template, is_sent=False)
        return
    metrics.email_sent(template, is_sent=True)


def send_verification_email(to: str, token: str) -> None:
    _deliver(
        to,
        f"Confirm your email address for {_shop_name()}",
        "verify_email",
        link=absolute_url("accounts.verify_email", token=token),
    )


def send_password_reset_email(to: str, token: str, minutes: int) -> None:
    _deliver(
        to,
        f"Reset your {_shop_name()} password",
        "password_reset",
        link=absolute_url("accounts.reset_password", token=token),
        minutes=minutes,
    )


def send_password_changed_email(to: str) -> None:
    _deliver(
        to,
        f"Your {_shop_name()} password was changed",
        "password_changed",
        forgot_link=absolute_url("accounts.forgot_password"),
    )


def send_staff_invitation_email(to: str, token: str, inviter: str, groups: str, days: int) -> None:
    _deliver(
        to,
        f"You are invited to join the staff of {_shop_name()}",
        "staff_invitation",
        link=absolute_url("accounts.accept_invitation", token=token),
        inviter=inviter,
        groups=groups,
        days=days,
    )


def send_two_factor_reset_email(to: str, admin: str) -> None:
    _deliver(
        to,
        f"Your two-factor sign-in at {_shop_name()} was turned off",
        "two_factor_reset",
        admin=admin,
        sign_in_link=absolute_url("accounts.sign_in"),
    )
