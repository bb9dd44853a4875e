"""Staff feedback pages, added to the staff blueprint by ``register``: the inbox (open or
handled, newest first, 50 a page), one item, marking it handled or open again, and answering
it by email when the shopper left an address. Everything needs ``reports.view``; each action
is one call of ``feedback.services`` (which writes the audit entry). A refused action shows
the item again with the reason at the error's status (409, 422) and changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from funnel.accounts.permissions import Permission
from funnel.accounts.views.rendering import show_errors
from funnel.core.errors import DomainError
from funnel.core.pagination import page_number
from funnel.feedback import queries, services
from funnel.feedback.forms import ReplyForm
from funnel.feedback.queries import FeedbackState
from funnel.staff.access import page_permission

FEEDBACK_ID = "<id:feedback_id>"


def register(bp: Blueprint) -> None:
    view = page_permission(Permission.REPORTS_VIEW)
    bp.add_url_rule("/feedback", "feedback", view(inbox), methods=["GET"])
    bp.add_url_rule(f"/feedback/{FEEDBACK_ID}", "feedback_item", view(item), methods=["GET"])
    bp.add_url_rule(
        f"/feedback/{FEEDBACK_ID}/handled", "feedback_handled", view(handled), methods=["POST"]
    )
    bp.add_url_rule(
        f"/feedback/{FEEDBACK_ID}/reopen", "feedback_reopen", view(reopen), methods=["POST"]
    )
    bp.add_url_rule(
        f"/feedback/{FEEDBACK_ID}/reply", "feedback_reply", view(reply), methods=["POST"]
    )


def inbox() -> ResponseReturnValue:
    """Open items (or handled ones, ``?state=handled``), newest first."""
    state = _state(request.args.get("state"))
    return render_template(
        "staff/feedback/list.html",
        page=queries.inbox(state, page_number(request.args.get("page"))),
        state=state,
        states=list(FeedbackState),
        counts=queries.count_by_state(),
    )


def _state(given: str | None) -> FeedbackState:
    try:
        return FeedbackState(given or FeedbackState.OPEN)
    except ValueError:
        return FeedbackState.OPEN


def item(feedback_id: int, form: ReplyForm | None = None, status: int = 200) -> ResponseReturnValue:
    current = queries.get_feedback(feedback_id)
    page = render_template(
        "staff/feedback/detail.html",
        item=current,
        form=form or ReplyForm(),
        handled_by=queries.staff_email(current.handled_by_id),
        replied_by=queries.staff_email(current.replied_by_id),
    )
    return page, status


def _set(feedback_id: int, is_handled: bool) -> ResponseReturnValue:
    change = services.set_handled(feedback_id, is_handled, actor_user_id=current_user.id)
    word = "handled" if is_handled else "open"
    already = "" if change.changed else " already"
    flash(f"Feedback #{change.feedback_id} is{already} {word}.", "success")
    return redirect(url_for("staff.feedback_item", feedback_id=change.feedback_id), code=303)


def handled(feedback_id: int) -> ResponseReturnValue:
    return _set(feedback_id, True)


def reopen(feedback_id: int) -> ResponseReturnValue:
    return _set(feedback_id, False)


def reply(feedback_id: int) -> ResponseReturnValue:
    form = ReplyForm()
    if not form.validate_on_submit():
        return item(feedback_id, form=form, status=422)
    try:
        services.reply(feedback_id, form.reply.data or "", actor_user_id=current_user.id)
    except DomainError as error:
        show_errors(form, error)
        return item(feedback_id, form=form, status=error.status)
    flash(f"Your reply to feedback #{feedback_id} is sent by email.", "success")
    return redirect(url_for("staff.feedback_item", feedback_id=feedback_id), code=303)
