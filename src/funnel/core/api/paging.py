"""Lists paged by an opaque cursor: where a request reads (``PagePosition``), the cursor of
the next page, and the two fields every such list documents (``cursor_parameter()``,
``next_cursor_field()``).

A cursor is the page number and size, base64 JSON: opaque to clients (they pass it back as
they got it), so that it may become a keyset position one day without changing the API.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import marshmallow as ma
from marshmallow import validate

from funnel.core.errors import ValidationFailed

MAX_CURSOR_LENGTH = 200
_CURSOR_KEYS = ("page", "limit")


class PagedResult(Protocol):
    """A page of a list as the queries return it (``core.pagination.Page``, or Flask-SQLAlchemy's
    ``Pagination``)."""

    @property
    def items(self) -> Sequence[Any]: ...

    @property
    def has_next(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class PagePosition:
    """Where a list paged by cursor is read: page ``number`` of ``size`` items.

    A cursor holds both (so that the next page keeps the size the first was asked for); the
    first page is read at the request's ``limit``, else the list's default size; the size is
    never more than the list's maximum, whatever a cursor says.
    """

    number: int
    size: int

    @classmethod
    def of(cls, parameters: Mapping[str, Any], *, default_size: int, max_size: int) -> PagePosition:
        """The position a list's query parameters (``cursor``, ``limit``) ask for.

        Raises ValidationFailed (422, field ``cursor``) for a cursor this API did not make.
        """
        cursor = parameters.get("cursor")
        if cursor:
            position = decode_cursor(cursor, _CURSOR_KEYS)
            number, size = position["page"], position["limit"]
        else:
            number, size = 1, parameters.get("limit") or default_size
        return cls(number, min(size, max_size))

    def next_cursor(self, page: PagedResult) -> str | None:
        """The cursor of the page after ``page`` (read at this position); None on the last."""
        if not (page.has_next and page.items):
            return None
        return encode_cursor({"page": self.number + 1, "limit": self.size})


def cursor_parameter() -> ma.fields.String:
    """The ``cursor`` query parameter of a list paged by cursor."""
    return ma.fields.String(
        validate=validate.Length(max=MAX_CURSOR_LENGTH),
        metadata={"description": "next_cursor of the previous page, as it was returned"},
    )


def next_cursor_field() -> ma.fields.String:
    """The ``next_cursor`` of a page of a list paged by cursor."""
    return ma.fields.String(
        required=True, allow_none=True, metadata={"description": "null on the last page"}
    )


def encode_cursor(position: Mapping[str, int]) -> str:
    """An opaque cursor for a position in a list (clients pass it back as they got it)."""
    raw = json.dumps(dict(position), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, keys: tuple[str, ...]) -> dict[str, int]:
    """The position a cursor holds: positive integers under ``keys``.

    Raises ValidationFailed (422, field ``cursor``) for anything that is not such a cursor.
    """
    message = "This cursor is not valid; pass next_cursor as it was returned."
    invalid = ValidationFailed(message, fields={"cursor": [message]})
    if len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
        raise invalid
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as error:
        raise invalid from error
    if not isinstance(data, dict) or set(data) != set(keys):
        raise invalid
    values = {key: data[key] for key in keys}
    for value in values.values():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10**6:
            raise invalid
    return values
