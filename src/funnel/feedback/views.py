"""The storefront's feedback page (blueprint ``feedback``): the form every page's footer links
to with ``?from=<its path>``, and the thank-you message after it.

The path travels in a hidden field and is checked again by the service (a same-site path
only). Sending is rate limited per client address, shared with the API. The page counts no
step of the sales funnel.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from funnel.accounts.views.rendering import show_errors
from funnel.feedback import services
from funnel.feedback.errors import InvalidFeedback
from funnel.feedback.forms import FeedbackForm
from funnel.feedback.limits import feedback_limit
from funnel.feedback.paths import same_site_path

bp = Blueprint("feedback", __name__)


@bp.route("/feedback", methods=["GET", "POST"])
@feedback_limit
def form() -> ResponseReturnValue:
    form = FeedbackForm()
    if request.method == "GET":
        form.page.data = same_site_path(request.args.get("from")) or ""
    if form.validate_on_submit():
        try:
            services.send_feedback(
                form.message.data or "",
                form.email.data,
                form.page.data,
                user_id=current_user.id if current_user.is_authenticated else None,
            )
        except InvalidFeedback as error:
            show_errors(form, error)
        else:
            back = same_site_path(form.page.data)
            return redirect(url_for("feedback.thanks", **({"from": back} if back else {})), 303)
    status = 422 if form.errors else 200
    return render_template("feedback/form.html", form=form), status


@bp.get("/feedback/thanks")
def thanks() -> ResponseReturnValue:
    return render_template("feedback/thanks.html", back=same_site_path(request.args.get("from")))
