"""Reading the settings: ``current_settings()``, the read model every domain uses.

Workers see a change at their next request: nothing is kept between requests. A request reads
the stored rows once (one small query: a row per key that staff saved, one per setting at most)
and keeps the read model in ``g`` until it ends; outside a request (a job, a command) each call
reads afresh. Keys without a row take their initial value from the configuration.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, g, has_request_context
from sqlalchemy import select

from funnel.extensions import db
from funnel.settings.models import SettingChange, ShopSetting
from funnel.settings.values import (
    INITIAL_CONFIG_KEYS,
    KEYS,
    ShopSettings,
    initial_values,
    shop_settings,
)

log = logging.getLogger(__name__)

_REQUEST_CACHE = "funnel_shop_settings"
RECENT_CHANGES = 20


def initial_settings() -> ShopSettings:
    """The settings as the configuration gives them (what a shop has before staff save any)."""
    return shop_settings(initial_values(current_app.config), _currency())


# Built once (every page reads it): a reused statement keeps its SQL cache key.
_STORED = select(ShopSetting.key, ShopSetting.value)


def stored_values() -> dict[str, Any]:
    """The values staff saved, by key (keys never saved are absent)."""
    rows = db.session.execute(_STORED).all()
    return {key: json.loads(value) for key, value in rows if key in KEYS}


def current_values() -> dict[str, Any]:
    """Every key's value in stored form: saved by staff, else the initial one."""
    return {**initial_values(current_app.config), **stored_values()}


def current_settings() -> ShopSettings:
    """The shop's settings now (one query per request; see the module's docstring)."""
    if has_request_context():
        cached = g.get(_REQUEST_CACHE)
        if cached is not None:
            return cached
    settings = _read()
    if has_request_context():
        setattr(g, _REQUEST_CACHE, settings)
    return settings


def forget_current_settings() -> None:
    """Drop this request's copy (after a change, so that the rest of the request sees it)."""
    if has_request_context():
        g.pop(_REQUEST_CACHE, None)


# The read model per (configuration, stored rows): a pure function of them, built once per
# worker and state instead of on every request. The rows are still read on every request, so
# a change staff save is seen at the next one. A few entries (tests make many apps).
_BUILT: dict[tuple[Any, ...], ShopSettings] = {}
_BUILT_SIZE = 32


def _read() -> ShopSettings:
    config = current_app.config
    rows = tuple(db.session.execute(_STORED).tuples())
    key = (tuple(repr(config.get(name)) for name in INITIAL_CONFIG_KEYS), rows, _currency())
    built = _BUILT.get(key)
    if built is not None:
        return built
    initial = initial_values(config)
    values = {**initial, **{name: json.loads(value) for name, value in rows if name in KEYS}}
    try:
        built = shop_settings(values, _currency())
    except (KeyError, TypeError, ValueError, AttributeError):
        # A row written by hand that the read model cannot take: the shop keeps selling.
        log.exception("a stored setting cannot be read: the initial values are used")
        return shop_settings(initial, _currency())
    if len(_BUILT) >= _BUILT_SIZE:
        _BUILT.clear()
    _BUILT[key] = built
    return built


def _currency() -> str:
    return str(current_app.config.get("CURRENCY", "USD"))


@dataclass(frozen=True)
class ChangeView:
    key: str
    before: Any
    after: Any
    changed_at: datetime
    changed_by_email: str


def recent_changes(limit: int = RECENT_CHANGES) -> list[ChangeView]:
    """The last changes, newest first."""
    rows = db.session.scalars(
        select(SettingChange)
        .order_by(SettingChange.changed_at.desc(), SettingChange.id.desc())
        .limit(limit)
    )
    return [
        ChangeView(
            row.key,
            json.loads(row.before),
            json.loads(row.after),
            row.changed_at,
            row.changed_by_email,
        )
        for row in rows
    ]
