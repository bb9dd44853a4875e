"""Reading the audit log: newest first, filtered by actor, object and dates, a page at a time."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, or_, select

from funnel.audit.models import OBJECT_ID_LENGTH, SEARCH_LENGTH, AuditEntry
from funnel.core.pagination import Page, paginate
from funnel.extensions import db

PAGE_SIZE = 50


@dataclass(frozen=True)
class FieldChange:
    """One changed field of an entry: its name, and its value before and after (JSON)."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class AuditEntryView:
    id: int
    occurred_at: datetime
    actor_user_id: int | None
    client_address: str | None
    action: str
    object_type: str
    object_id: str
    object_label: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def changes(self) -> list[FieldChange]:
        """The fields before and after, by name (a creation has only afters, a deletion only
        befores)."""
        before = self.before or {}
        after = self.after or {}
        names = sorted({*before, *after})
        return [FieldChange(name, before.get(name), after.get(name)) for name in names]


@dataclass(frozen=True)
class AuditFilter:
    """What to look for; None or empty means any. Dates are whole UTC days, both included."""

    actor_user_id: int | None = None
    object_type: str | None = None
    search: str = ""
    since: date | None = None
    until: date | None = None


def browse(wanted: AuditFilter, page: int = 1, size: int = PAGE_SIZE) -> Page[AuditEntryView]:
    """A page of entries matching ``wanted``, newest first (id breaks ties)."""
    statement = _filtered(select(AuditEntry), wanted).order_by(
        AuditEntry.occurred_at.desc(), AuditEntry.id.desc()
    )
    found = paginate(db.session, statement, page, size)
    return Page(
        items=[_view(entry) for entry in found.items],
        number=found.number,
        size=found.size,
        total=found.total,
    )


def object_types() -> list[str]:
    """The kinds of object the log holds entries for, in name order (the filter's choices)."""
    return list(
        db.session.scalars(
            select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type)
        )
    )


def actor_ids() -> list[int]:
    """Every account that has an entry, by id (the filter's choices)."""
    return [
        actor
        for actor in db.session.scalars(
            select(AuditEntry.actor_user_id).distinct().order_by(AuditEntry.actor_user_id)
        )
        if actor is not None
    ]


def entries_for(object_type: str, object_id: int | str) -> Sequence[AuditEntryView]:
    """Every entry about one object, oldest first."""
    statement = (
        select(AuditEntry)
        .where(AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
        .order_by(AuditEntry.occurred_at, AuditEntry.id)
    )
    return [_view(entry) for entry in db.session.scalars(statement)]


def _filtered(statement: Select[Any], wanted: AuditFilter) -> Select[Any]:
    if wanted.actor_user_id is not None:
        statement = statement.where(AuditEntry.actor_user_id == wanted.actor_user_id)
    if wanted.object_type:
        statement = statement.where(AuditEntry.object_type == wanted.object_type)
    search = wanted.search.strip()[:SEARCH_LENGTH]
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions = [AuditEntry.object_label.ilike(pattern, escape="\\")]
        if len(search) <= OBJECT_ID_LENGTH:
            conditions.append(AuditEntry.object_id == search)
        statement = statement.where(or_(*conditions))
    if wanted.since is not None:
        statement = statement.where(AuditEntry.occurred_at >= _start_of(wanted.since))
    if wanted.until is not None:
        statement = statement.where(
            AuditEntry.occurred_at < _start_of(wanted.until + timedelta(days=1))
        )
    return statement


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _view(entry: AuditEntry) -> AuditEntryView:
    return AuditEntryView(
        id=entry.id,
        occurred_at=entry.occurred_at,
        actor_user_id=entry.actor_user_id,
        client_address=entry.client_address,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        object_label=entry.object_label,
        before=None if entry.before is None else json.loads(entry.before),
        after=None if entry.after is None else json.loads(entry.after),
    )
