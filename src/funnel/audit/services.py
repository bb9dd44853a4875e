"""Recording audit entries: the only code that writes ``audit_entries``.

A staff use case of any domain calls ``record`` inside its own ``transaction()``, once it knows
what changed: the entry joins that transaction, so a change that is refused or rolled back
leaves no entry, and an entry never stands without its change. Who acts is the service's
``actor_user_id``; a change with no actor (the system: jobs, the demo loader, the command
line) is not a staff change and records nothing.

The client's address is not the service's to read (services know nothing of ``request``): the
staff edges set it for the request with ``bind_client_address`` (and release it at teardown),
and ``record`` reads it from this context; outside a request it is None.

``single_entry()`` lets a use case that calls other audited use cases (CSV import, a product
created with its variants) stand as one entry: the inner calls record nothing while it is open,
and the outer use case records the whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import date, datetime
from enum import Enum
from typing import Any

from funnel.audit.models import (
    ACTION_LENGTH,
    ADDRESS_LENGTH,
    OBJECT_ID_LENGTH,
    OBJECT_LABEL_LENGTH,
    OBJECT_TYPE_LENGTH,
    AuditEntry,
)
from funnel.core.database import in_transaction, transaction
from funnel.extensions import db

# Field names never written to the log, whatever a caller passes: credentials stay out of it.
SECRET_FIELDS = frozenset(
    {
        "password",
        "password_hash",
        "new_password",
        "token",
        "token_hash",
        "secret",
        "api_key",
        "client_secret",
        "card_number",
    }
)
_REDACTED_PARTS = ("password", "token", "secret")

_client_address: ContextVar[str | None] = ContextVar("funnel_audit_client_address", default=None)
_single_entry: ContextVar[bool] = ContextVar("funnel_audit_single_entry", default=False)

Fields = Mapping[str, Any]


def bind_client_address(address: str | None) -> Token[str | None]:
    """Say which address the current request comes from (the proxy-corrected remote address);
    the entries recorded until ``release_client_address`` carry it."""
    text = (address or "").strip()[:ADDRESS_LENGTH] or None
    return _client_address.set(text)


def release_client_address(token: Token[str | None]) -> None:
    """Forget the address bound with ``bind_client_address`` (at the request's teardown)."""
    _client_address.reset(token)


def client_address() -> str | None:
    """The address bound for the current request, or None."""
    return _client_address.get()


@contextmanager
def single_entry() -> Iterator[None]:
    """Inside this block ``record`` records nothing: the caller records one entry for it all."""
    token = _single_entry.set(True)
    try:
        yield
    finally:
        _single_entry.reset(token)


def changed_fields(before: Fields, after: Fields) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields whose value differs between two snapshots of an object, before and after.

    A field missing from one side counts as None there.
    """
    keys = [key for key in {**before, **after} if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after.get(key) for key in keys}


def record(
    action: str,
    *,
    actor_user_id: int | None,
    object_type: str,
    object_id: int | str,
    object_label: str = "",
    before: Fields | None = None,
    after: Fields | None = None,
) -> AuditEntry | None:
    """Record that ``actor_user_id`` did ``action`` (``product.updated``) to an object.

    ``before`` and ``after`` are the changed fields only (``changed_fields`` makes them from
    two snapshots); values must be JSON-ready or dates and enums; fields named like a
    credential are dropped. Returns the entry, or None when nothing was recorded (no actor,
    or inside ``single_entry``). Side effects: one INSERT in the caller's transaction (a
    transaction of its own when none is open).
    """
    if actor_user_id is None or _single_entry.get():
        return None
    entry = AuditEntry(
        action=action[:ACTION_LENGTH],
        actor_user_id=actor_user_id,
        client_address=_client_address.get(),
        object_type=object_type[:OBJECT_TYPE_LENGTH],
        object_id=str(object_id)[:OBJECT_ID_LENGTH],
        object_label=(object_label or "")[:OBJECT_LABEL_LENGTH],
        before=_json(before),
        after=_json(after),
    )
    if in_transaction():
        db.session.add(entry)
        db.session.flush()
        return entry
    with transaction():
        db.session.add(entry)
    return entry


def _json(fields: Fields | None) -> str | None:
    if fields is None:
        return None
    return json.dumps(_public(fields), sort_keys=True, default=_plain)


def _public(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _public(item) for key, item in value.items() if not _is_secret(str(key))}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_public(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return lowered in SECRET_FIELDS or any(part in lowered for part in _REDACTED_PARTS)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
