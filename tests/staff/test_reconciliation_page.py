"""US-70: staff holding ``orders.refund`` see the reconciliation findings on
``/staff/payments/reconciliation`` (open ones first, newest first, 50 a page) and resolve each
open one with a note of what they did; who and when are kept, once; others reach nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from sqlalchemy import select

from funnel.accounts.models import Role, User
from funnel.checkout.models import FindingKind, ReconciliationFinding
from funnel.checkout.services.findings import FoundCharge, record_finding
from funnel.core import clock
from funnel.core.money import Money
from funnel.extensions import db
from tests.audit.helpers import entries
from tests.factories.accounts import UserFactory
from tests.factories.orders import place
from tests.support.staff_pages import field_error

ROLES = ("anonymous", "customer", "staff_without_refunds", "staff_with_refunds", "admin")
PAGE = "/staff/payments/reconciliation"


def browser(role: str, client: FlaskClient, signed_in: Any) -> FlaskClient:
    if role == "anonymous":
        return client
    account_role = {"customer": Role.CUSTOMER, "admin": Role.ADMIN}.get(role, Role.STAFF)
    groups = "refunds" if role == "staff_with_refunds" else None
    user = UserFactory(
        email=f"{role}@example.com",
        role=account_role,
        is_email_verified=True,
        permission_groups=groups,
    )
    return signed_in(user)


def finding(
    charge_id: str = "pi_foreign",
    kind: FindingKind = FindingKind.FOREIGN,
    reference: str | None = None,
    detail: str = "no payment of ours: not refunded, look at it",
) -> int:
    assert record_finding(
        FoundCharge("stripe", charge_id, Money(2500, "EUR"), kind, reference, detail)
    )
    return db.session.scalars(
        select(ReconciliationFinding.id).where(ReconciliationFinding.gateway_charge_id == charge_id)
    ).one()


def state() -> list[tuple[Any, ...]]:
    db.session.commit()  # see what the services committed
    rows = db.session.scalars(select(ReconciliationFinding).order_by(ReconciliationFinding.id))
    return [
        (
            row.gateway_charge_id,
            row.is_resolved,
            row.resolved_by_id,
            row.resolved_by_email,
            row.action_note,
        )
        for row in rows
    ]


def resolutions() -> list[tuple[Any, ...]]:
    return [
        (entry["action"], entry["actor"], entry["after"])
        for entry in entries()
        if entry["object"][0] == "reconciliation_finding"
    ]


@pytest.mark.story("US-70")
@pytest.mark.parametrize("role", ROLES)
def test_only_staff_who_may_refund_see_and_resolve_findings(
    role: str, client: FlaskClient, signed_in: Any
) -> None:
    # given one open finding
    finding_id = finding()
    caller = browser(role, client, signed_in)

    # when they open the page and try to resolve it
    page = caller.get(PAGE)
    resolved = caller.post(f"{PAGE}/{finding_id}/resolve", data={"note": "Refunded at Stripe."})

    # then only those holding orders.refund see it and resolve it; the others change nothing
    if role in ("staff_with_refunds", "admin"):
        assert (page.status_code, resolved.status_code) == (200, 303)
        assert "pi_foreign" in page.get_data(as_text=True)
        email = f"{role}@example.com"
        user_id = db.session.scalar(select(User.id).where(User.email == email))
        assert state() == [("pi_foreign", True, user_id, email, "Refunded at Stripe.")]
        return
    expected = 302 if role == "anonymous" else 403
    assert (page.status_code, resolved.status_code) == (expected, expected)
    assert state() == [("pi_foreign", False, None, None, None)]
    assert resolutions() == []


@pytest.mark.story("US-70")
def test_resolving_records_the_note_who_and_when_once(
    admin_user: Any, signed_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given two open findings; the gauge counts them after a run
    finding_id = finding()
    finding("pi_other", FindingKind.UNRESOLVED, "checkout:7:1", "The payment service is down.")
    caller = signed_in(admin_user)
    moment = clock.utcnow().replace(microsecond=0) + timedelta(minutes=5)
    monkeypatch.setattr(clock, "utcnow", lambda: moment)

    # when staff resolve one with a note
    response = caller.post(
        f"{PAGE}/{finding_id}/resolve",
        data={"note": "  Refunded in Stripe's dashboard: a test charge.  "},
        follow_redirects=True,
    )

    # then the note, who and when are kept, the audit log says so, the gauge counts one open
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The foreign finding for stripe charge pi_foreign is resolved." in page
    assert state() == [
        (
            "pi_foreign",
            True,
            admin_user.id,
            "admin@example.com",
            "Refunded in Stripe's dashboard: a test charge.",
        ),
        ("pi_other", False, None, None, None),
    ]
    row = db.session.get(ReconciliationFinding, finding_id)
    assert row is not None
    assert row.resolved_at == moment
    assert "by admin@example.com:" in page
    assert resolutions() == [
        (
            "reconciliation_finding.resolved",
            admin_user.id,
            {"resolved": True, "note": "Refunded in Stripe's dashboard: a test charge."},
        )
    ]
    assert REGISTRY.get_sample_value("funnel_unreconciled_charges") == 1.0

    # when they (or another tab) resolve it again
    again = caller.post(f"{PAGE}/{finding_id}/resolve", data={"note": "Something else."})

    # then it is refused with the reason, and the first note stays
    assert again.status_code == 409
    assert "This finding is resolved already" in again.get_data(as_text=True)
    assert state()[0][4] == "Refunded in Stripe's dashboard: a test charge."
    assert len(resolutions()) == 1


@pytest.mark.story("US-70")
@pytest.mark.parametrize("note", ["", "   ", None])
def test_a_finding_is_not_resolved_without_a_note(
    note: str | None, admin_user: Any, signed_in: Any
) -> None:
    finding_id = finding()
    data = {} if note is None else {"note": note}

    response = signed_in(admin_user).post(f"{PAGE}/{finding_id}/resolve", data=data)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, f"note-{finding_id}") == "Write what was done about this charge."
    assert state() == [("pi_foreign", False, None, None, None)]
    assert resolutions() == []


@pytest.mark.story("US-70")
def test_a_note_too_long_or_an_unknown_finding_is_refused(admin_user: Any, signed_in: Any) -> None:
    finding_id = finding()
    caller = signed_in(admin_user)

    too_long = caller.post(f"{PAGE}/{finding_id}/resolve", data={"note": "x" * 2001})
    unknown = caller.post(f"{PAGE}/{finding_id + 1000}/resolve", data={"note": "Done."})

    assert (too_long.status_code, unknown.status_code) == (422, 404)
    assert field_error(too_long.get_data(as_text=True), f"note-{finding_id}") == (
        "Use at most 2,000 characters (this has 2,001)."
    )
    assert "No such reconciliation finding" in unknown.get_data(as_text=True)
    assert state() == [("pi_foreign", False, None, None, None)]


@pytest.mark.story("US-70")
@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_resolving_without_the_csrf_token_is_refused(admin_user: Any, signed_in: Any) -> None:
    finding_id = finding()
    caller = signed_in(admin_user)

    refused = caller.post(f"{PAGE}/{finding_id}/resolve", data={"note": "Done."})

    assert refused.status_code == 400
    assert state() == [("pi_foreign", False, None, None, None)]
    page = caller.get(PAGE).get_data(as_text=True)
    [token] = re.findall(
        rf'action="{PAGE}/{finding_id}/resolve">\s*'
        r'<input type="hidden" name="csrf_token" value="([^"]+)">',
        page,
    )
    with_token = caller.post(
        f"{PAGE}/{finding_id}/resolve", data={"note": "Done.", "csrf_token": token}
    )
    assert with_token.status_code == 303
    assert state()[0][1:] == (True, admin_user.id, "admin@example.com", "Done.")


@pytest.mark.story("US-70")
def test_the_list_shows_open_findings_first_newest_first_with_the_order_linked(
    admin_user: Any, signed_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an order, and findings an hour apart: the oldest open, one settled by a run
    order = place()
    start = clock.utcnow()
    for hours, (charge_id, kind, reference) in enumerate(
        (
            ("pi_oldest_open", FindingKind.UNRESOLVED, order.number),
            ("pi_settled", FindingKind.PAID, order.number),
            ("pi_newest_open", FindingKind.FOREIGN, None),
        )
    ):
        monkeypatch.setattr(clock, "utcnow", lambda hours=hours: start + timedelta(hours=hours))
        finding(charge_id, kind, reference, f"detail of {charge_id}")
    monkeypatch.undo()

    # when staff open the page
    page = signed_in(admin_user).get(PAGE).get_data(as_text=True)

    # then the open ones come first, newest first, then the settled one with its note
    assert page.index("pi_newest_open") < page.index("pi_oldest_open") < page.index("pi_settled")
    assert "2 open findings; 3 in all" in page
    assert page.count('name="note"') == 2
    assert f'<a href="/staff/orders/{order.number}">{order.number}</a>' in page
    assert "by the reconciliation:" in page
    assert "Done by the reconciliation: detail of pi_settled" in page
    assert "€25.00" in page


@pytest.mark.story("US-70")
def test_the_list_shows_fifty_a_page(admin_user: Any, signed_in: Any) -> None:
    for number in range(51):
        finding(f"pi_{number:02d}")
    caller = signed_in(admin_user)

    first = caller.get(PAGE).get_data(as_text=True)
    second = caller.get(f"{PAGE}?page=2").get_data(as_text=True)

    assert first.count('name="note"') == 50
    assert second.count('name="note"') == 1
    assert caller.get(f"{PAGE}?page=zero").status_code == 400


@pytest.mark.story("US-70")
def test_the_dashboard_and_the_orders_page_link_it_for_those_who_may_refund(
    client: FlaskClient, signed_in: Any
) -> None:
    with_refunds = browser("staff_with_refunds", client, signed_in)
    without = browser("staff_without_refunds", client, signed_in)
    link = f'href="{PAGE}"'
    assert link in with_refunds.get("/staff/").get_data(as_text=True)
    assert link in with_refunds.get("/staff/orders").get_data(as_text=True)
    assert link not in without.get("/staff/").get_data(as_text=True)
    assert link not in without.get("/staff/orders").get_data(as_text=True)


API = "/api/v1/staff/reconciliation-findings"


@pytest.mark.story("US-70")
@pytest.mark.parametrize("role", ["anonymous", "customer", "staff_without_refunds", "refunds"])
def test_the_staff_api_lists_findings_only_for_those_who_may_refund(
    role: str, app: Any, bearer: Any
) -> None:
    # given one open finding
    finding()
    client = app.test_client()
    headers = {}
    if role != "anonymous":
        account_role = Role.CUSTOMER if role == "customer" else Role.STAFF
        groups = "refunds" if role == "refunds" else None
        headers = bearer(UserFactory(role=account_role, permission_groups=groups))

    # when they ask for the list
    response = client.get(API, headers=headers)

    # then only staff holding orders.refund read it
    expected = {"anonymous": 401, "customer": 403, "staff_without_refunds": 403, "refunds": 200}
    assert response.status_code == expected[role]
    if role == "refunds":
        assert [item["gateway_charge_id"] for item in response.get_json()["items"]] == [
            "pi_foreign"
        ]
    assert state() == [("pi_foreign", False, None, None, None)]


@pytest.mark.story("US-70")
def test_the_staff_api_gives_open_findings_first_page_by_page(
    app: Any, admin_user: Any, bearer: Any, signed_in: Any
) -> None:
    # given an order's finding resolved by staff, then a newer foreign one still open
    order = place()
    resolved_id = finding("pi_resolved", FindingKind.UNRESOLVED, order.number, "down")
    signed_in(admin_user).post(f"{PAGE}/{resolved_id}/resolve", data={"note": "Refunded."})
    finding("pi_open")
    client = app.test_client()
    headers = bearer(admin_user)

    # when a client reads them one to a page
    first = client.get(f"{API}?limit=1", headers=headers).get_json()
    second = client.get(f"{API}?limit=1&cursor={first['next_cursor']}", headers=headers)

    # then the open one comes first, the resolved one next with who and what
    [open_one] = first["items"]
    [resolved] = second.get_json()["items"]
    assert second.get_json()["next_cursor"] is None
    assert {key: open_one[key] for key in ("kind", "gateway", "amount", "order_number")} == {
        "kind": "foreign",
        "gateway": "stripe",
        "amount": {"amount": 2500, "currency": "EUR"},
        "order_number": None,
    }
    assert (open_one["resolved_at"], open_one["action_note"]) == (None, None)
    assert (
        resolved["id"],
        resolved["reference"],
        resolved["order_number"],
        resolved["resolved_by_email"],
        resolved["action_note"],
    ) == (resolved_id, order.number, order.number, "admin@example.com", "Refunded.")
