"""What the audit log holds, as tests compare it."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from funnel.audit.models import AuditEntry
from funnel.extensions import db


def entries() -> list[dict[str, Any]]:
    """Every entry, oldest first, as plain values (before and after parsed)."""
    db.session.expire_all()
    rows = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))
    return [
        {
            "action": row.action,
            "actor": row.actor_user_id,
            "address": row.client_address,
            "object": (row.object_type, row.object_id),
            "label": row.object_label,
            "before": None if row.before is None else json.loads(row.before),
            "after": None if row.after is None else json.loads(row.after),
        }
        for row in rows
    ]


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) or 0
