"""Changing the settings: ``update_settings(editor, changes)``, the one use case that writes.

Only an editor holding ``settings.manage`` (admins) may change them. Every field is checked
first and all messages come back together, by field; nothing is saved unless all are right.
Each changed key gets its row (value, when, by whom) and a history row (before and after), and
the change as a whole an audit entry, in one transaction; other workers read the new values
at their next request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from funnel.audit import services as audit
from funnel.core import clock
from funnel.core.countries import is_country_code
from funnel.core.database import on_commit, transaction
from funnel.core.errors import PermissionDenied, ValidationFailed
from funnel.extensions import db
from funnel.settings import queries
from funnel.settings.models import SettingChange, ShopSetting
from funnel.settings.values import (
    BANK_ACCOUNT,
    BANK_ACCOUNT_FIELDS,
    BANK_TRANSFER_DETAILS,
    CARD_CAPTURE,
    CARD_CAPTURE_CHOICES,
    CODE_PATTERN,
    CONTACT_EMAIL,
    DEFAULT_TAX_RATE,
    FREE_SHIPPING_THRESHOLD,
    KEYS,
    MAX_DELIVERY_DAYS,
    MAX_RETURN_WINDOW_DAYS,
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
    is_time_zone,
)

# The permission, as accounts.permissions names it (that module says who holds it: admins).
MANAGE_PERMISSION = "settings.manage"
MAX_TAX_RATE = 10_000  # 100 %
MAX_PRICE_MINOR = 10**9
MAX_METHODS = 20
MAX_TAX_COUNTRIES = 250
SHOP_NAME_LENGTH = 100
METHOD_NAME_LENGTH = 100
POSTAL_ADDRESS_LENGTH = 500
BANK_DETAILS_LENGTH = 1000
BANK_ACCOUNT_FIELD_LENGTH = 100
EMAIL_LENGTH = 254
PREFIX_PATTERN = re.compile(r"^[A-Z0-9]{1,6}-?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")

Errors = dict[str, list[str]]


@dataclass(frozen=True)
class Editor:
    """Who is changing the settings: their account and the permissions they hold, as
    ``accounts.permissions.permissions_of`` says (settings sit below accounts)."""

    user_id: int | None
    email: str
    permissions: frozenset[str]


def update_settings(editor: Editor, changes: Mapping[str, Any]) -> list[str]:
    """Save the settings in ``changes`` (stored form: see ``settings.values``) that differ from
    the current ones; return the keys changed, in ``KEYS`` order.

    Shipping methods come as ``{"code", "name", "price_minor", "is_free_above_threshold"}``
    rows (and ``min_days``, ``max_days``: working days, both or neither), tax rates as
    ``{"country", "rate"}`` rows (basis points), the bank account as
    ``{"holder", "account_number", "bic", "bank_name"}`` (all empty: no bank transfer).
    Raises PermissionDenied without ``settings.manage``; ValidationFailed (422) with messages
    by field (``shop_name``, ``shipping_methods-1-price``, ``bank_account-holder``...) when
    any value is wrong, nothing saved. Side effects: a history row per changed key.
    """
    if MANAGE_PERMISSION not in editor.permissions:
        raise PermissionDenied(f"This needs the {MANAGE_PERMISSION} permission.")
    errors: Errors = {}
    cleaned: dict[str, Any] = {}
    for key, value in changes.items():
        check = _CHECKS.get(key)
        if check is None:
            errors.setdefault(key, []).append("This is not a setting.")
            continue
        cleaned[key] = check(value, errors)
    if errors:
        raise ValidationFailed("Some settings are not right; nothing was saved.", errors)
    with transaction():
        current = queries.current_values()
        changed = [key for key in KEYS if key in cleaned and cleaned[key] != current[key]]
        rows = {
            row.key: row
            for row in db.session.scalars(
                select(ShopSetting).where(ShopSetting.key.in_(changed)).with_for_update()
            )
        }
        moment = clock.utcnow()
        for key in changed:
            after = json.dumps(cleaned[key], sort_keys=True)
            row = rows.get(key) or ShopSetting(key=key)
            row.value = after
            row.updated_at = moment
            row.updated_by_id = editor.user_id
            db.session.add(row)
            db.session.add(
                SettingChange(
                    key=key,
                    before=json.dumps(current[key], sort_keys=True),
                    after=after,
                    changed_at=moment,
                    changed_by_id=editor.user_id,
                    changed_by_email=editor.email,
                )
            )
        if changed:
            # The settings page's own history keeps a row per key (what the page shows beside
            # the form); the audit log gets the change as a whole, with the staff's others.
            audit.record(
                "settings.updated",
                actor_user_id=editor.user_id,
                object_type="settings",
                object_id="shop",
                object_label="Shop settings",
                before={key: current[key] for key in changed},
                after={key: cleaned[key] for key in changed},
            )
        on_commit(queries.forget_current_settings)
    return changed


def _text(key: str, *, length: int, required: bool) -> Callable[[Any, Errors], str]:
    def check(value: Any, errors: Errors) -> str:
        text = str(value or "").strip()
        if required and not text:
            errors.setdefault(key, []).append("This cannot be empty.")
        elif len(text) > length:
            errors.setdefault(key, []).append(f"At most {length} characters.")
        return text

    return check


def _email(value: Any, errors: Errors) -> str:
    text = str(value or "").strip()
    if not _EMAIL.match(text) or len(text) > EMAIL_LENGTH:
        errors.setdefault(CONTACT_EMAIL, []).append("An email address, such as shop@example.com.")
    return text


def _whole_number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _rate(value: Any, field: str, errors: Errors) -> int:
    rate = _whole_number(value)
    if rate is None or not 0 <= rate <= MAX_TAX_RATE:
        errors.setdefault(field, []).append("A rate from 0 to 100 %.")
        return 0
    return rate


def _methods(value: Any, errors: Errors) -> list[dict[str, Any]]:
    methods: list[dict[str, Any]] = []
    rows = list(value or [])
    if not rows:
        errors.setdefault(SHIPPING_METHODS, []).append("Offer at least one shipping method.")
    if len(rows) > MAX_METHODS:
        errors.setdefault(SHIPPING_METHODS, []).append(f"At most {MAX_METHODS} methods.")
    seen: set[str] = set()
    for index, row in enumerate(rows):
        field = f"{SHIPPING_METHODS}-{index}-"
        code = str(row.get("code") or "").strip().lower()
        name = str(row.get("name") or "").strip()
        price = _whole_number(row.get("price_minor"))
        if not CODE_PATTERN.match(code):
            errors.setdefault(field + "code", []).append(
                "Lower-case letters, digits, - and _, at most 32 (such as standard)."
            )
        elif code in seen:
            errors.setdefault(field + "code", []).append(f"{code} is already a method above.")
        seen.add(code)
        if not name or len(name) > METHOD_NAME_LENGTH:
            errors.setdefault(field + "name", []).append(
                f"A name of 1 to {METHOD_NAME_LENGTH} characters."
            )
        if price is None or not 0 <= price <= MAX_PRICE_MINOR:
            errors.setdefault(field + "price", []).append("A price of 0 or more.")
        method: dict[str, Any] = {
            "code": code,
            "name": name,
            "price_minor": price or 0,
            "is_free_above_threshold": bool(row.get("is_free_above_threshold")),
        }
        low, high = row.get("min_days"), row.get("max_days")
        if low is not None or high is not None:
            low, high = _whole_number(low), _whole_number(high)
            if low is None or high is None or not 0 <= low <= high <= MAX_DELIVERY_DAYS:
                errors.setdefault(field + "delivery_days", []).append(
                    "Working days such as 3-5 (or 2), or empty."
                )
            else:
                method["min_days"], method["max_days"] = low, high
        methods.append(method)
    return methods


def _threshold(value: Any, errors: Errors) -> int | None:
    if value is None:
        return None
    amount = _whole_number(value)
    if amount is None or not 0 <= amount <= MAX_PRICE_MINOR:
        errors.setdefault(FREE_SHIPPING_THRESHOLD, []).append("An amount of 0 or more, or none.")
        return None
    return amount


def _tax_rates(value: Any, errors: Errors) -> dict[str, int]:
    rates: dict[str, int] = {}
    rows = list(value or [])
    if len(rows) > MAX_TAX_COUNTRIES:
        errors.setdefault(TAX_RATES, []).append(f"At most {MAX_TAX_COUNTRIES} countries.")
    for index, row in enumerate(rows):
        field = f"{TAX_RATES}-{index}-"
        country = str(row.get("country") or "").strip().upper()
        if not is_country_code(country):
            errors.setdefault(field + "country", []).append(
                "A country's ISO code, such as GB or DE."
            )
        elif country in rates:
            errors.setdefault(field + "country", []).append(f"{country} has a rate above.")
        rates[country] = _rate(row.get("rate"), field + "rate", errors)
    return rates


def _default_rate(value: Any, errors: Errors) -> int:
    return _rate(value, DEFAULT_TAX_RATE, errors)


def _prefix(value: Any, errors: Errors) -> str:
    prefix = str(value or "").strip().upper()
    if not PREFIX_PATTERN.match(prefix):
        errors.setdefault(ORDER_NUMBER_PREFIX, []).append(
            "1 to 6 capital letters or digits, with a - at the end if you like (such as FN-)."
        )
    return prefix


def _bank_account(value: Any, errors: Errors) -> dict[str, str]:
    """All four fields empty (no bank transfer), or at least the holder and the account."""
    given = value if isinstance(value, Mapping) else {}
    account = {field: str(given.get(field) or "").strip() for field in BANK_ACCOUNT_FIELDS}
    for field, text in account.items():
        if len(text) > BANK_ACCOUNT_FIELD_LENGTH:
            errors.setdefault(f"{BANK_ACCOUNT}-{field}", []).append(
                f"At most {BANK_ACCOUNT_FIELD_LENGTH} characters."
            )
    if any(account.values()):
        for field in ("holder", "account_number"):
            if not account[field]:
                errors.setdefault(f"{BANK_ACCOUNT}-{field}", []).append(
                    "Needed for bank transfer (or leave every bank field empty)."
                )
    return account


def _country(value: Any, errors: Errors) -> str:
    """An ISO country code, or empty (no country of its own)."""
    country = str(value or "").strip().upper()
    if country and not is_country_code(country):
        errors.setdefault(SHOP_COUNTRY, []).append("A country's ISO code, such as GB or DE.")
    return country


def _time_zone(value: Any, errors: Errors) -> str:
    """An IANA time zone name, as the time-zone database spells it."""
    name = str(value or "").strip()
    if not is_time_zone(name):
        errors.setdefault(TIME_ZONE, []).append(
            "A time zone such as Europe/Berlin, America/New_York or UTC."
        )
    return name


def _return_window(value: Any, errors: Errors) -> int:
    days = _whole_number(value)
    if days is None or not 0 <= days <= MAX_RETURN_WINDOW_DAYS:
        errors.setdefault(RETURN_WINDOW_DAYS, []).append(
            f"A whole number of days from 0 (no returns) to {MAX_RETURN_WINDOW_DAYS}."
        )
        return 0
    return days


def _card_capture(value: Any, errors: Errors) -> str:
    if value not in CARD_CAPTURE_CHOICES:
        errors.setdefault(CARD_CAPTURE, []).append(
            "At checkout, or authorised at checkout and captured at the first shipment."
        )
        return CARD_CAPTURE_CHOICES[0]
    return str(value)


def _flag(key: str) -> Callable[[Any, Errors], bool]:
    def check(value: Any, errors: Errors) -> bool:
        if not isinstance(value, bool):
            errors.setdefault(key, []).append("Yes or no.")
            return False
        return value

    return check


_CHECKS: dict[str, Callable[[Any, Errors], Any]] = {
    SHOP_NAME: _text(SHOP_NAME, length=SHOP_NAME_LENGTH, required=True),
    CONTACT_EMAIL: _email,
    POSTAL_ADDRESS: _text(POSTAL_ADDRESS, length=POSTAL_ADDRESS_LENGTH, required=False),
    SHIPPING_METHODS: _methods,
    FREE_SHIPPING_THRESHOLD: _threshold,
    TAX_RATES: _tax_rates,
    DEFAULT_TAX_RATE: _default_rate,
    BANK_ACCOUNT: _bank_account,
    BANK_TRANSFER_DETAILS: _text(BANK_TRANSFER_DETAILS, length=BANK_DETAILS_LENGTH, required=False),
    ORDER_NUMBER_PREFIX: _prefix,
    STAFF_TWO_FACTOR_REQUIRED: _flag(STAFF_TWO_FACTOR_REQUIRED),
    PRICES_INCLUDE_TAX: _flag(PRICES_INCLUDE_TAX),
    SHOP_COUNTRY: _country,
    TIME_ZONE: _time_zone,
    RETURN_WINDOW_DAYS: _return_window,
    CARD_CAPTURE: _card_capture,
}
