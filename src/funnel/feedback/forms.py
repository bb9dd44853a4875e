"""The storefront's feedback form (Flask-WTF: it carries a CSRF token).

The form bounds what is looked at; the rules (a message, an email that is an address, a
same-site path) are the service's, whose errors the view puts beside the fields.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, TextAreaField
from wtforms.validators import Length

from funnel.feedback.models import EMAIL_LENGTH, MESSAGE_LENGTH, REPLY_LENGTH

# Room for spaces the service trims; it states the real limit.
_SLACK = 100


class FeedbackForm(FlaskForm):
    message = TextAreaField(
        "Your message",
        validators=[Length(max=MESSAGE_LENGTH + _SLACK, message="Use at most 2,000 characters.")],
        render_kw={"rows": 6, "maxlength": MESSAGE_LENGTH, "required": True},
        description="What worked, what did not, what you missed (up to 2,000 characters).",
    )
    email = EmailField(
        "Your email (optional)",
        validators=[Length(max=EMAIL_LENGTH + _SLACK, message="Use at most 254 characters.")],
        render_kw={"autocomplete": "email", "maxlength": EMAIL_LENGTH},
        description="Only if you would like an answer.",
    )
    page = HiddenField()


class ReplyForm(FlaskForm):
    reply = TextAreaField(
        "Reply",
        validators=[Length(max=REPLY_LENGTH + _SLACK, message="Use at most 2,000 characters.")],
        render_kw={"rows": 6, "maxlength": REPLY_LENGTH, "required": True},
        description="Sent by email to the shopper, with their message quoted.",
    )
