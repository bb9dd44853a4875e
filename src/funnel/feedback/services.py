"""Feedback's use cases: a shopper sends it; staff with ``reports.view`` mark it handled (or
open again) and answer it once by email. The only code that writes ``feedback``.

Every staff change writes an audit entry in its own transaction; the reply's email is sent
after the commit, so a refused or rolled-back reply sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from funnel.accounts.errors import InvalidEmail
from funnel.accounts.models import User, normalise_email
from funnel.accounts.permissions import Permission, require_permission
from funnel.audit import services as audit
from funnel.core import clock
from funnel.core.database import on_commit, transaction
from funnel.extensions import db
from funnel.feedback import emails
from funnel.feedback.errors import FeedbackCannotBeAnswered, FeedbackNotFound, InvalidFeedback
from funnel.feedback.models import MESSAGE_LENGTH, REPLY_LENGTH, Feedback
from funnel.feedback.paths import same_site_path

MESSAGE = "message"
EMAIL = "email"
REPLY = "reply"


@dataclass(frozen=True)
class HandledChange:
    """What ``set_handled`` did: ``changed`` is False when the item already was so."""

    feedback_id: int
    is_handled: bool
    changed: bool


def send_feedback(
    message: str, email: str | None, page_path: object, user_id: int | None = None
) -> Feedback:
    """Store a shopper's feedback.

    ``page_path`` is kept only as a same-site path without its query string (anything else is
    dropped, not refused: the message still counts). Raises InvalidFeedback (422) for a blank
    or too long message or an email that is not an address; nothing is stored then.
    """
    errors: dict[str, list[str]] = {}
    text = _text(message, MESSAGE_LENGTH, MESSAGE, "Write your message.", errors)
    address = _optional_email(email, errors)
    if errors:
        raise InvalidFeedback(fields=errors)
    with transaction() as session:
        feedback = Feedback(
            message=text, email=address, page_path=same_site_path(page_path), user_id=user_id
        )
        session.add(feedback)
        session.flush()
    return feedback


def set_handled(feedback_id: int, is_handled: bool, *, actor_user_id: int) -> HandledChange:
    """Mark feedback handled (``is_handled``) or open again.

    Raises PermissionDenied without ``reports.view``, FeedbackNotFound. Side effect: an audit
    entry (``feedback.handled`` or ``feedback.reopened``) when it changed.
    """
    with transaction() as session:
        actor = _staff(actor_user_id)
        feedback = _locked(feedback_id)
        if feedback.is_handled == is_handled:
            return HandledChange(feedback.id, is_handled, changed=False)
        feedback.handled_at = clock.utcnow() if is_handled else None
        feedback.handled_by_id = actor.id if is_handled else None
        session.flush()
        audit.record(
            "feedback.handled" if is_handled else "feedback.reopened",
            actor_user_id=actor.id,
            object_type="feedback",
            object_id=feedback.id,
            object_label=f"Feedback #{feedback.id}",
            before={"handled": not is_handled},
            after={"handled": is_handled},
        )
    return HandledChange(feedback.id, is_handled, changed=True)


def reply(feedback_id: int, text: str, *, actor_user_id: int) -> Feedback:
    """Answer feedback by email (once), which also marks it handled.

    Raises PermissionDenied without ``reports.view``, FeedbackNotFound, InvalidFeedback (422)
    for a blank or too long reply, FeedbackCannotBeAnswered (409) when no email was left or it
    was answered already. Side effects: an audit entry ``feedback.replied``; the email to the
    shopper after the commit.
    """
    errors: dict[str, list[str]] = {}
    answer = _text(text, REPLY_LENGTH, REPLY, "Write your reply.", errors)
    with transaction() as session:
        actor = _staff(actor_user_id)
        feedback = _locked(feedback_id)
        if feedback.email is None:
            raise FeedbackCannotBeAnswered("The shopper left no email address to answer.")
        if feedback.reply is not None:
            raise FeedbackCannotBeAnswered("This feedback has been answered already.")
        if errors:
            raise InvalidFeedback(fields=errors)
        now = clock.utcnow()
        feedback.reply, feedback.replied_at, feedback.replied_by_id = answer, now, actor.id
        if feedback.handled_at is None:
            feedback.handled_at, feedback.handled_by_id = now, actor.id
        session.flush()
        audit.record(
            "feedback.replied",
            actor_user_id=actor.id,
            object_type="feedback",
            object_id=feedback.id,
            object_label=f"Feedback #{feedback.id}",
            before={"reply": None},
            after={"reply": answer, "to": feedback.email},
        )
        address, original = feedback.email, feedback.message
        on_commit(lambda: emails.send_reply_email(address, answer, original))
    return feedback


def _staff(actor_user_id: int) -> User:
    actor = db.session.get(User, actor_user_id)
    require_permission(actor, Permission.REPORTS_VIEW)
    assert actor is not None
    return actor


def _locked(feedback_id: int) -> Feedback:
    """The feedback row, locked for the change (SQLite's write transaction locks already)."""
    feedback = db.session.get(Feedback, feedback_id, with_for_update=True)
    if feedback is None:
        raise FeedbackNotFound()
    return feedback


def _text(value: object, length: int, field: str, blank: str, errors: dict[str, list[str]]) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        errors[field] = [blank]
    elif len(text) > length:
        errors[field] = [f"Use at most {length:,} characters (this has {len(text):,})."]
    elif "\x00" in text:
        errors[field] = ["Remove the NUL character."]
    return text


def _optional_email(value: object, errors: dict[str, list[str]]) -> str | None:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return None
    try:
        return normalise_email(text)
    except InvalidEmail as error:
        errors[EMAIL] = [error.detail]
        return None
