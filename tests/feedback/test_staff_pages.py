"""US-65: staff holding ``reports.view`` read the feedback inbox (open or handled, newest
first, 50 a page), mark items handled or open again, and answer by email; every action is in
the audit log, and staff without the permission reach nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from funnel.accounts.models import Role
from funnel.core import clock
from funnel.settings.queries import current_settings
from tests.audit.helpers import entries
from tests.factories.accounts import UserFactory
from tests.feedback.helpers import feedback_state, stored
from tests.support.mailbox import Mailbox
from tests.support.staff_pages import field_error

ROLES = ("anonymous", "customer", "staff_without_reports", "staff_with_reports", "admin")


def _browser(role: str, client: FlaskClient, signed_in: Any) -> FlaskClient:
    if role == "anonymous":
        return client
    account_role = {"customer": Role.CUSTOMER, "admin": Role.ADMIN}.get(role, Role.STAFF)
    groups = "reports" if role == "staff_with_reports" else None
    user = UserFactory(
        email=f"{role}@example.com",
        role=account_role,
        is_email_verified=True,
        permission_groups=groups,
    )
    return signed_in(user)


def _actions() -> list[tuple[str, Any, Any]]:
    return [
        (e["action"], e["before"], e["after"]) for e in entries() if e["object"][0] == "feedback"
    ]


@pytest.mark.story("US-65")
@pytest.mark.parametrize("role", ROLES)
def test_only_staff_with_the_reports_permission_reach_the_inbox(
    role: str, client: FlaskClient, signed_in: Any
) -> None:
    # given one open item
    feedback_id = stored()
    browser = _browser(role, client, signed_in)
    allowed = role in ("staff_with_reports", "admin")

    # when they open the inbox and the item, and try to mark it handled
    inbox = browser.get("/staff/feedback")
    item = browser.get(f"/staff/feedback/{feedback_id}")
    handled = browser.post(f"/staff/feedback/{feedback_id}/handled")

    # then only the allowed see it and change it; the others change nothing
    if allowed:
        assert (inbox.status_code, item.status_code, handled.status_code) == (200, 200, 303)
        assert "Love the mugs" in inbox.get_data(as_text=True)
        assert feedback_state()[0][4] is True
        return
    expected = 302 if role == "anonymous" else 403
    assert (inbox.status_code, item.status_code, handled.status_code) == (expected,) * 3
    assert feedback_state() == [
        ("Love the mugs", "shopper@example.com", "/products/mug", None, False, None)
    ]
    assert _actions() == []


@pytest.mark.story("US-65")
def test_the_dashboard_offers_the_inbox_to_those_who_may_read_it(
    client: FlaskClient, signed_in: Any
) -> None:
    with_reports = _browser("staff_with_reports", client, signed_in)
    without = _browser("staff_without_reports", client, signed_in)
    assert 'href="/staff/feedback"' in with_reports.get("/staff/").get_data(as_text=True)
    assert 'href="/staff/feedback"' not in without.get("/staff/").get_data(as_text=True)


@pytest.mark.story("US-65")
def test_the_inbox_lists_open_items_newest_first_and_filters_handled(
    admin_user: Any, signed_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given three items, an hour apart, the oldest handled
    start = clock.utcnow()
    ids = []
    for hours, message in enumerate(("First", "Second", "Third")):
        monkeypatch.setattr(clock, "utcnow", lambda hours=hours: start + timedelta(hours=hours))
        ids.append(stored(message))
    monkeypatch.undo()
    browser = signed_in(admin_user)
    browser.post(f"/staff/feedback/{ids[0]}/handled")

    # then the open inbox shows the newer two, newest first; the handled filter the oldest
    page = browser.get("/staff/feedback").get_data(as_text=True)
    assert page.index("Third") < page.index("Second")
    assert "First" not in page
    assert "Open (2)" in page
    assert "Handled (1)" in page
    handled = browser.get("/staff/feedback?state=handled").get_data(as_text=True)
    assert "First" in handled
    assert "Second" not in handled


@pytest.mark.story("US-65")
def test_the_inbox_shows_fifty_a_page(admin_user: Any, signed_in: Any) -> None:
    for number in range(51):
        stored(f"Message number {number:02d}.")
    browser = signed_in(admin_user)
    first = browser.get("/staff/feedback").get_data(as_text=True)
    second = browser.get("/staff/feedback?page=2").get_data(as_text=True)
    assert first.count("Message number") == 50
    assert second.count("Message number") == 1
    assert "Message number 00." in second


@pytest.mark.story("US-65")
def test_staff_mark_an_item_handled_and_reopen_it_with_audit_entries(
    admin_user: Any, signed_in: Any
) -> None:
    feedback_id = stored()
    browser = signed_in(admin_user)

    response = browser.post(f"/staff/feedback/{feedback_id}/handled", follow_redirects=True)
    assert f"Feedback #{feedback_id} is handled." in response.get_data(as_text=True)
    assert "Handled <time" in response.get_data(as_text=True)
    assert feedback_state()[0][4] is True

    again = browser.post(f"/staff/feedback/{feedback_id}/handled", follow_redirects=True)
    assert f"Feedback #{feedback_id} is already handled." in again.get_data(as_text=True)

    browser.post(f"/staff/feedback/{feedback_id}/reopen")
    assert feedback_state()[0][4] is False
    assert _actions() == [
        ("feedback.handled", {"handled": False}, {"handled": True}),
        ("feedback.reopened", {"handled": True}, {"handled": False}),
    ]
    assert [e["actor"] for e in entries()] == [admin_user.id, admin_user.id]


@pytest.mark.story("US-65")
def test_a_reply_is_emailed_over_smtp_recorded_and_shown(
    admin_user: Any, signed_in: Any, mailbox: Mailbox
) -> None:
    # given open feedback with an email address
    feedback_id = stored("The checkout page is slow on my phone.")
    browser = signed_in(admin_user)

    # when staff reply
    response = browser.post(
        f"/staff/feedback/{feedback_id}/reply",
        data={"reply": "Thank you: we made it faster today."},
        follow_redirects=True,
    )

    # then the shopper receives it, naming the shop and quoting their message
    page = response.get_data(as_text=True)
    assert "Your reply to feedback" in page
    assert "Thank you: we made it faster today." in page
    [message] = mailbox.to("shopper@example.com")
    shop_name = current_settings().shop_name
    assert message["Subject"] == f"{shop_name} answered your feedback"
    body = mailbox.body(message)
    assert "Thank you: we made it faster today." in body
    assert f"Thank you for your feedback to {shop_name}." in body
    assert "> The checkout page is slow on my phone." in body
    # and it is recorded, handled, and in the audit log
    assert feedback_state() == [
        (
            "The checkout page is slow on my phone.",
            "shopper@example.com",
            "/products/mug",
            None,
            True,
            "Thank you: we made it faster today.",
        )
    ]
    # and a second reply is refused, saying why, and sends nothing more
    again = browser.post(f"/staff/feedback/{feedback_id}/reply", data={"reply": "Again"})
    assert again.status_code == 409
    assert "This feedback has been answered already." in again.get_data(as_text=True)
    assert len(mailbox) == 1
    assert _actions() == [
        (
            "feedback.replied",
            {"reply": None},
            {"reply": "Thank you: we made it faster today.", "to": "shopper@example.com"},
        )
    ]


@pytest.mark.story("US-65")
def test_a_blank_reply_is_sent_back_and_nothing_is_sent(
    admin_user: Any, signed_in: Any, mailbox: Mailbox
) -> None:
    feedback_id = stored()
    response = signed_in(admin_user).post(
        f"/staff/feedback/{feedback_id}/reply", data={"reply": "   "}
    )
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "reply") == "Write your reply."
    assert feedback_state()[0][4:] == (False, None)
    assert list(mailbox) == []
    assert _actions() == []


@pytest.mark.story("US-65")
def test_feedback_without_an_email_cannot_be_answered(
    admin_user: Any, signed_in: Any, mailbox: Mailbox
) -> None:
    feedback_id = stored(email=None)
    browser = signed_in(admin_user)
    page = browser.get(f"/staff/feedback/{feedback_id}").get_data(as_text=True)
    assert "The shopper left no email address" in page
    assert "Send reply by email" not in page

    response = browser.post(f"/staff/feedback/{feedback_id}/reply", data={"reply": "Hello"})
    assert response.status_code == 409
    assert "The shopper left no email address to answer." in response.get_data(as_text=True)
    assert list(mailbox) == []
    assert feedback_state()[0][4:] == (False, None)


@pytest.mark.story("US-65")
def test_an_unknown_item_is_a_404(admin_user: Any, signed_in: Any) -> None:
    browser = signed_in(admin_user)
    assert browser.get("/staff/feedback/999").status_code == 404
    assert browser.post("/staff/feedback/999/handled").status_code == 404
