"""Putting a service's refusal on the staff page's form, beside the fields it concerns."""

from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm

from funnel.core.errors import DomainError, ValidationFailed


def show_errors(
    form: FlaskForm,
    error: DomainError,
    *,
    rename: Mapping[str, str] | None = None,
    field_of_code: Mapping[str, str] | None = None,
    fallback: str | None = None,
) -> None:
    """Put ``error``'s messages beside their fields.

    A service names fields as it knows them; ``rename`` maps them to the form's names.
    ``field_of_code`` places an error without fields (by its code) beside one field. Messages
    for a field the form does not have go to ``fallback`` (prefixed with the name the service
    gave), else above the form.
    """
    # A conflict may name its field too (a SKU already used): it comes in ``extra``.
    fields = error.fields if isinstance(error, ValidationFailed) else error.extra.get("fields")
    if fields:
        messages = dict(fields)
    else:
        messages = {(field_of_code or {}).get(error.code, ""): [error.detail]}
    for name, field_messages in messages.items():
        target = (rename or {}).get(name, name)
        field = form._fields.get(target) if target else None
        if field is None and name and fallback is not None:
            field = form._fields.get(fallback)
            field_messages = [f"{name.capitalize()}: {message}" for message in field_messages]
        if field is None:
            form.form_errors.extend(field_messages)
        else:
            field.errors = [*field.errors, *field_messages]
