"""The audit log page (``/staff/audit``), added to the staff blueprint by ``register``: who on
the staff changed what, when and from which address, with the values before and after;
filtered by staff member, kind of object, object (its id, number or name) and dates, newest
first, a page at a time.

Reading needs ``audit.view`` (admins, and staff given the Audit log group). The page only
reads: entries cannot be edited or deleted from the dashboard.
"""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from funnel.accounts import queries as account_queries
from funnel.accounts.permissions import Permission
from funnel.audit import queries
from funnel.audit.errors import InvalidAuditFilter
from funnel.audit.models import SEARCH_LENGTH
from funnel.core.pagination import page_number
from funnel.staff.access import page_permission

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/audit", "audit", audit_log, methods=["GET"])


@page_permission(Permission.AUDIT_VIEW)
def audit_log() -> ResponseReturnValue:
    wanted = _filter()
    page = queries.browse(wanted, page=page_number(request.args.get("page")))
    staff = account_queries.staff_members()
    actor_ids = set(queries.actor_ids()) | {entry.actor_user_id or 0 for entry in page.items}
    emails = {member.id: member.email for member in staff}
    emails.update(account_queries.emails_by_id(actor_ids - set(emails) - {0}))
    return render_template(
        "staff/audit.html",
        page=page,
        wanted=wanted,
        emails=emails,
        actors=sorted(emails.items(), key=lambda item: item[1]),
        object_types=queries.object_types(),
        arguments={
            "actor": wanted.actor_user_id,
            "type": wanted.object_type or None,
            "q": wanted.search or None,
            "from": wanted.since.isoformat() if wanted.since else None,
            "to": wanted.until.isoformat() if wanted.until else None,
        },
    )


def _filter() -> queries.AuditFilter:
    """The filters in the query string. Raises InvalidAuditFilter (422) naming each wrong one."""
    errors: dict[str, list[str]] = {}
    actor = request.args.get("actor", "").strip()
    actor_id: int | None = None
    if actor:
        if actor.isascii() and actor.isdigit() and len(actor) <= 10:
            actor_id = int(actor)
        else:
            errors["actor"] = ["Choose a staff member from the list."]
    object_type = request.args.get("type", "").strip()[:32]
    since = _date(request.args.get("from"), "from", errors)
    until = _date(request.args.get("to"), "to", errors)
    if since and until and since > until:
        errors["to"] = ["The end date comes on or after the start date."]
    if errors:
        raise InvalidAuditFilter("Some filters are not right.", errors)
    return queries.AuditFilter(
        actor_user_id=actor_id,
        object_type=object_type or None,
        search=request.args.get("q", "").strip()[:SEARCH_LENGTH],
        since=since,
        until=until,
    )


def _date(raw: str | None, field: str, errors: dict[str, list[str]]) -> date | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        if _DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    errors[field] = ["A date such as 2026-12-31."]
    return None
