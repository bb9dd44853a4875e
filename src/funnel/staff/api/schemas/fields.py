"""What every staff schema shares: text without NUL, identifiers, days, notes, page sizes."""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma
from marshmallow import validate

from funnel.inventory.models import NOTE_LENGTH


class Text(ma.fields.String):
    """A string without NUL: no shop text holds one, and PostgreSQL refuses it in a query."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ma.ValidationError("Must not contain a NUL character.")
        return text


MAX_STAFF_PAGE_SIZE = 100
MAX_ID = 2147483647
MAX_STOCK = 10**9
ID_RANGE = validate.Range(min=1, max=MAX_ID)
# Days every database stores and compares (MariaDB's DATETIME starts in year 1000).
DAY_RANGE = validate.Range(min=date(1970, 1, 1), max=date(9998, 12, 31))
NOTE_RULE = validate.Length(max=NOTE_LENGTH)


def page_limit() -> ma.fields.Integer:
    """The ``limit`` query parameter of a staff list."""
    return ma.fields.Integer(
        validate=validate.Range(min=1, max=MAX_STAFF_PAGE_SIZE),
        metadata={"description": "Page size (default: the shop's page size)"},
    )
