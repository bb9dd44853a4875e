"""The shop's settings page, added to the staff blueprint by ``register``: shipping methods and
the free-shipping threshold, tax rates, bank transfer details, the shop's name, contact email
and postal address, the order number prefix, when card payments are captured (at checkout or
at the first shipment), the shop's time zone, whether staff must sign in
with two factors; and the last changes, who made them and when.

Admins only (``settings.manage``), checked again by ``settings.services.update_settings``,
whose messages go beside the fields (422, nothing saved). The form turns what people type
(``4.99``, ``19.5`` %) into minor units and basis points; every rule is the service's.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import Field

from funnel.accounts.permissions import Permission, settings_editor
from funnel.core.errors import ValidationFailed
from funnel.core.money import Money, MoneyError
from funnel.settings import queries as settings_queries
from funnel.settings import services as settings_services
from funnel.settings.values import (
    BANK_ACCOUNT,
    BANK_TRANSFER_DETAILS,
    CARD_CAPTURE,
    CONTACT_EMAIL,
    DEFAULT_TAX_RATE,
    FREE_SHIPPING_THRESHOLD,
    ORDER_NUMBER_PREFIX,
    POSTAL_ADDRESS,
    PRICES_INCLUDE_TAX,
    RETURN_WINDOW_DAYS,
    SHIPPING_METHODS,
    SHOP_COUNTRY,
    SHOP_NAME,
    STAFF_TWO_FACTOR_REQUIRED,
    TAX_RATES,
    TIME_ZONE,
    parse_delivery_days,
)
from funnel.staff.access import page_permission
from funnel.staff.forms import SettingsForm

MANAGE = Permission.SETTINGS_MANAGE
BLANK_METHOD_ROWS = 2
BLANK_TAX_ROWS = 3
# What the page calls each setting (the history names them so).
LABELS = {
    SHOP_NAME: "Shop name",
    CONTACT_EMAIL: "Contact email",
    POSTAL_ADDRESS: "Postal address",
    SHIPPING_METHODS: "Shipping methods",
    FREE_SHIPPING_THRESHOLD: "Free shipping from",
    TAX_RATES: "Tax rates",
    DEFAULT_TAX_RATE: "Default tax rate",
    BANK_ACCOUNT: "Bank account",
    BANK_TRANSFER_DETAILS: "Bank transfer instructions",
    ORDER_NUMBER_PREFIX: "Order number prefix",
    STAFF_TWO_FACTOR_REQUIRED: "Two-factor sign-in required for staff",
    PRICES_INCLUDE_TAX: "Storefront prices include tax",
    SHOP_COUNTRY: "The shop's country",
    TIME_ZONE: "Time zone",
    RETURN_WINDOW_DAYS: "Return window (days after delivery)",
    CARD_CAPTURE: "When card payments are captured",
}
# The form's name of a setting where it differs from the service's.
# The bank account's fields, by the service's name of each (``bank_account-holder``).
BANK_FORM_FIELDS = {
    "holder": "bank_holder",
    "account_number": "bank_account_number",
    "bic": "bank_bic",
    "bank_name": "bank_name",
}
FORM_FIELD = {
    FREE_SHIPPING_THRESHOLD: "free_shipping_threshold",
    **{f"{BANK_ACCOUNT}-{key}": name for key, name in BANK_FORM_FIELDS.items()},
}


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/settings", "settings", settings_page, methods=["GET"])
    bp.add_url_rule("/settings", "settings_save", save_settings, methods=["POST"])


def _major(amount: int | None, currency: str) -> str:
    return "" if amount is None else str(Money(amount, currency).to_decimal())


def _days_text(min_days: int | None, max_days: int | None) -> str:
    if min_days is None or max_days is None:
        return ""
    return f"{min_days}" if min_days == max_days else f"{min_days}-{max_days}"


def _percent(basis_points: int) -> str:
    whole, rest = divmod(basis_points, 100)
    return f"{whole}" if not rest else f"{whole}.{rest:02d}".rstrip("0")


def _filled_form() -> SettingsForm:
    shop = settings_queries.current_settings()
    form = SettingsForm(
        formdata=None,
        data={
            "shop_name": shop.shop_name,
            "contact_email": shop.contact_email,
            "postal_address": shop.postal_address,
            "free_shipping_threshold": _major(shop.free_shipping_threshold_minor, shop.currency),
            "default_tax_rate": _percent(shop.default_tax_rate),
            "bank_transfer_details": shop.bank_transfer_details,
            **{name: getattr(shop.bank_account, key) for key, name in BANK_FORM_FIELDS.items()},
            "order_number_prefix": shop.order_number_prefix,
            "staff_two_factor_required": shop.staff_two_factor_required,
            "prices_include_tax": shop.prices_include_tax,
            "shop_country": shop.shop_country,
            "time_zone": shop.time_zone,
            "return_window_days": str(shop.return_window_days),
            "card_capture": shop.card_capture,
        },
    )
    for method in shop.shipping_methods:
        form.shipping_methods.append_entry(
            {
                "code": method.code,
                "name": method.name,
                "price": _major(method.price_minor, shop.currency),
                "delivery_days": _days_text(method.min_days, method.max_days),
                "is_free_above_threshold": method.is_free_above_threshold,
            }
        )
    for country, rate in shop.tax_rates:
        form.tax_rates.append_entry({"country": country, "rate": _percent(rate)})
    _add_blank_rows(form)
    return form


def _add_blank_rows(form: SettingsForm) -> None:
    for _ in range(BLANK_METHOD_ROWS):
        form.shipping_methods.append_entry()
    for _ in range(BLANK_TAX_ROWS):
        form.tax_rates.append_entry()


def _page(
    form: SettingsForm, list_errors: dict[str, list[str]], status: int
) -> ResponseReturnValue:
    shop = settings_queries.current_settings()
    page = render_template(
        "staff/settings.html",
        form=form,
        list_errors=list_errors,
        currency=shop.currency,
        changes=settings_queries.recent_changes(),
        labels=LABELS,
        shown=_shown,
    )
    return page, status


def _shown(value: Any) -> str:
    """A stored value as the history shows it (short JSON; text as it is)."""
    if isinstance(value, str):
        return value or "(empty)"
    if value is None:
        return "(none)"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@page_permission(MANAGE)
def settings_page() -> ResponseReturnValue:
    return _page(_filled_form(), {}, 200)


def _text(field: Field) -> str:
    return str(field.data or "").strip()


def _money(field: Field, currency: str) -> int | None:
    """Minor units of what was typed; None (with a message on the field) when it is no amount."""
    try:
        return Money.parse(_text(field), currency).amount
    except MoneyError:
        field.errors = [*field.errors, f"An amount in {currency}, such as 4.99."]
        return None


def _days(field: Field) -> int | str:
    """A whole number of days typed; what was typed otherwise (the service says why not)."""
    text = _text(field)
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else text


def _basis_points(field: Field) -> int | None:
    """Basis points of a rate typed in percent (``20``, ``19.5``); None with a message."""
    try:
        value = Decimal(_text(field).rstrip("%").strip()) * 100
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value != value.to_integral_value():
        field.errors = [*field.errors, "A rate in percent, such as 20 or 19.5."]
        return None
    return int(value)


def _changes(form: SettingsForm, currency: str) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """What the form asks for, in the service's terms, and which form row each service row is
    (blank rows are left out). Amounts and rates that cannot be read get messages here."""
    methods: list[dict[str, Any]] = []
    method_rows: list[int] = []
    for index, entry in enumerate(form.shipping_methods.entries):
        row = entry.form
        if not (_text(row.code) or _text(row.name) or _text(row.price)):
            continue
        method = {
            "code": _text(row.code),
            "name": _text(row.name),
            "price_minor": _money(row.price, currency),
            "is_free_above_threshold": bool(row.is_free_above_threshold.data),
        }
        if _text(row.delivery_days):
            days = parse_delivery_days(_text(row.delivery_days))
            if days is None:
                row.delivery_days.errors = [
                    *row.delivery_days.errors,
                    "Working days such as 3-5 (or 2), or empty.",
                ]
            else:
                method["min_days"], method["max_days"] = days
        methods.append(method)
        method_rows.append(index)
    rates: list[dict[str, Any]] = []
    rate_rows: list[int] = []
    for index, entry in enumerate(form.tax_rates.entries):
        row = entry.form
        if not (_text(row.country) or _text(row.rate)):
            continue
        rates.append({"country": _text(row.country), "rate": _basis_points(row.rate)})
        rate_rows.append(index)
    threshold_text = _text(form.free_shipping_threshold)
    changes = {
        SHOP_NAME: _text(form.shop_name),
        CONTACT_EMAIL: _text(form.contact_email),
        POSTAL_ADDRESS: _text(form.postal_address),
        SHIPPING_METHODS: methods,
        FREE_SHIPPING_THRESHOLD: (
            _money(form.free_shipping_threshold, currency) if threshold_text else None
        ),
        TAX_RATES: rates,
        DEFAULT_TAX_RATE: _basis_points(form.default_tax_rate),
        BANK_ACCOUNT: {key: _text(getattr(form, name)) for key, name in BANK_FORM_FIELDS.items()},
        BANK_TRANSFER_DETAILS: _text(form.bank_transfer_details),
        ORDER_NUMBER_PREFIX: _text(form.order_number_prefix),
        STAFF_TWO_FACTOR_REQUIRED: bool(form.staff_two_factor_required.data),
        PRICES_INCLUDE_TAX: bool(form.prices_include_tax.data),
        SHOP_COUNTRY: _text(form.shop_country),
        TIME_ZONE: _text(form.time_zone),
        RETURN_WINDOW_DAYS: _days(form.return_window_days),
        CARD_CAPTURE: _text(form.card_capture),
    }
    return changes, {SHIPPING_METHODS: method_rows, TAX_RATES: rate_rows}


def _place_errors(
    form: SettingsForm, fields: dict[str, list[str]], rows: dict[str, list[int]]
) -> dict[str, list[str]]:
    """Put the service's messages beside their fields; return those about a whole list."""
    list_errors: dict[str, list[str]] = {}
    for name, messages in fields.items():
        list_name, _, rest = name.partition("-")
        if name in FORM_FIELD:
            field = getattr(form, FORM_FIELD[name])
        elif rest:
            index, _, subfield = rest.partition("-")
            form_index = rows[list_name][int(index)]
            field = getattr(getattr(form, list_name).entries[form_index].form, subfield)
        elif name in rows:
            list_errors.setdefault(name, []).extend(messages)
            continue
        else:
            field = getattr(form, FORM_FIELD.get(name, name), None)
        if field is None:
            form.form_errors.extend(messages)
        elif not field.errors:  # a shape message (not an amount) says enough
            field.errors = [*field.errors, *messages]
    return list_errors


def _has_field_errors(form: SettingsForm) -> bool:
    return any(
        field.errors
        if not hasattr(field, "entries")
        else any(any(sub.errors for sub in entry.form) for entry in field.entries)
        for field in form
    )


@page_permission(MANAGE)
def save_settings() -> ResponseReturnValue:
    form = SettingsForm()
    if not form.validate():  # the CSRF token
        return _page(form, {}, 400)
    currency = settings_queries.current_settings().currency
    changes, rows = _changes(form, currency)
    if _has_field_errors(form):
        return _page(form, {}, 422)
    try:
        changed = settings_services.update_settings(settings_editor(current_user), changes)
    except ValidationFailed as error:
        list_errors = _place_errors(form, error.fields or {}, rows)
        form.form_errors.append(error.detail)
        return _page(form, list_errors, 422)
    if changed:
        flash(
            "Saved: "
            + ", ".join(LABELS[key].lower() for key in changed)
            + ". Every page uses them from now on.",
            "success",
        )
    else:
        flash("Nothing had changed.", "info")
    return redirect(url_for("staff.settings"), code=303)
