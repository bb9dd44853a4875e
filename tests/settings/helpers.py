"""The staff settings form as a browser posts it, and what the database holds."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from funnel.extensions import db
from funnel.settings.models import SettingChange, ShopSetting

# What a new test shop shows on the settings page (config.py's defaults), as posted back.
INITIAL_FORM = {
    "shop_name": "Funnel",
    "contact_email": "shop@localhost",
    "postal_address": "",
    "shipping_methods-0-code": "standard",
    "shipping_methods-0-name": "Standard",
    "shipping_methods-0-price": "4.99",
    "shipping_methods-0-is_free_above_threshold": "y",
    "shipping_methods-1-code": "express",
    "shipping_methods-1-name": "Express",
    "shipping_methods-1-price": "14.99",
    "shipping_methods-2-code": "",
    "shipping_methods-2-name": "",
    "shipping_methods-2-price": "",
    "free_shipping_threshold": "50.00",
    "tax_rates-0-country": "DE",
    "tax_rates-0-rate": "19",
    "tax_rates-1-country": "FR",
    "tax_rates-1-rate": "20",
    "tax_rates-2-country": "GB",
    "tax_rates-2-rate": "20",
    "tax_rates-3-country": "US",
    "tax_rates-3-rate": "0",
    "tax_rates-4-country": "",
    "tax_rates-4-rate": "",
    "default_tax_rate": "0",
    "bank_holder": "Funnel Test Ltd",
    "bank_account_number": "GB33 BUKB 2020 1555 5555 55",
    "bank_bic": "BUKBGB22",
    "bank_name": "Barclays",
    "bank_transfer_details": "",
    "order_number_prefix": "FN-",
    "time_zone": "UTC",
    "return_window_days": "30",
    "card_capture": "at_checkout",
}


def settings_form(**changes: str) -> dict[str, str]:
    """The form as first shown, with ``changes`` (``shipping_methods-0-price="7.00"``)."""
    return {**INITIAL_FORM, **{name.replace("__", "-"): value for name, value in changes.items()}}


def stored() -> dict[str, str]:
    """The saved settings' JSON by key."""
    db.session.expire_all()
    rows = db.session.execute(sa.select(ShopSetting.key, ShopSetting.value)).all()
    return {str(key): str(value) for key, value in rows}


def history() -> list[tuple[str, str, str, str]]:
    """(key, before, after, who) of every change, oldest first."""
    rows = db.session.scalars(sa.select(SettingChange).order_by(SettingChange.id))
    return [(row.key, row.before, row.after, row.changed_by_email) for row in rows]


def save(browser: Any, **changes: str) -> Any:
    return browser.post("/staff/settings", data=settings_form(**changes))
