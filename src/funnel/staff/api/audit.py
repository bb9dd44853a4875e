"""The audit log over the API (permission ``audit.view``): the same entries and filters as the
``/staff/audit`` page, for a shop's own tools (a SIEM, an export). Reading only."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import current_app

from funnel.accounts.permissions import Permission
from funnel.audit import queries
from funnel.audit.errors import InvalidAuditFilter
from funnel.core.api import errors
from funnel.core.api.paging import PagePosition
from funnel.staff.api import bp
from funnel.staff.api.access import staff_permission
from funnel.staff.api.schemas.audit import AuditPageSchema, AuditQuerySchema
from funnel.staff.api.schemas.fields import MAX_STAFF_PAGE_SIZE


@bp.route("/audit", methods=["GET"])
@bp.response(200, AuditPageSchema)
@errors(bp, 422)
@staff_permission(bp, Permission.AUDIT_VIEW)
@bp.arguments(AuditQuerySchema, location="query", as_kwargs=True)
def list_staff_audit_entries(**parameters: Any) -> dict[str, Any]:
    """Who on the staff changed what: audit entries, newest first; one page

    Every filter given must match: `actor_user_id`, `object_type`, `q` (an object's id
    exactly, or a part of its name or number), `occurred_from` and `occurred_to` (days, UTC,
    both included; the end on or after the start, else 422). `before` and `after` hold only
    the fields that changed. Follow `next_cursor` for the next page, with the same filters;
    it is null on the last one. Needs `audit.view`.
    """
    since, until = parameters.get("occurred_from"), parameters.get("occurred_to")
    if since and until and since > until:
        raise InvalidAuditFilter(
            "Some filters are not right.",
            {"occurred_to": ["The end date comes on or after the start date."]},
        )
    position = PagePosition.of(
        parameters, default_size=current_app.config["PAGE_SIZE"], max_size=MAX_STAFF_PAGE_SIZE
    )
    wanted = queries.AuditFilter(
        actor_user_id=parameters.get("actor_user_id"),
        object_type=parameters.get("object_type") or None,
        search=parameters.get("q") or "",
        since=since,
        until=until,
    )
    page = queries.browse(wanted, page=position.number, size=position.size)
    return {
        "items": [asdict(entry) for entry in page.items],
        "next_cursor": position.next_cursor(page),
    }
