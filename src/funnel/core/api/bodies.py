"""Request bodies of the JSON API: small JSON that nothing after it can choke on, or files
for the operations marked ``accepts_uploads``. ``limit_api_bodies`` runs before every request."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import current_app, request
from werkzeug.exceptions import BadRequest

from funnel.core.errors import MalformedRequest

MAX_JSON_DEPTH = 32


ACCEPTS_UPLOADS = "funnel_accepts_uploads"


def accepts_uploads(function: Any) -> Any:
    """Mark an operation that takes files: a ``multipart/form-data`` body may be as large as
    the shop's ``MAX_CONTENT_LENGTH`` rather than the API's JSON limit (a JSON body sent to it
    keeps the JSON limit and checks). Put it right under the route decorator."""
    setattr(function, ACCEPTS_UPLOADS, True)
    return function


def limit_api_bodies() -> None:
    """``before_request``: API bodies are JSON and small; a bigger one is a 413 problem.
    Operations marked ``accepts_uploads`` take files up to the shop's ``MAX_CONTENT_LENGTH``.

    The body is read here once, before any operation, so that no document can make an
    operation fail (see ``check_json_body``).
    """
    if not request.path.startswith("/api/"):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    sends_files = (
        getattr(view, ACCEPTS_UPLOADS, False) and request.mimetype == "multipart/form-data"
    )
    # Files: the limit of the whole shop (the operation reads them); anything else is JSON.
    limit = "MAX_CONTENT_LENGTH" if sends_files else "API_MAX_CONTENT_LENGTH"
    request.max_content_length = current_app.config[limit]
    if request.is_json and request.content_length != 0:
        check_json_body(request.get_data(cache=True))


def check_json_body(raw: bytes) -> None:
    """Refuse, with a 400 problem, JSON that parses but that nothing after this may meet:

    - nesting deeper than ``MAX_JSON_DEPTH`` (Python's parser, marshmallow and the JSON
      encoder recurse, and 2 KB of brackets would exhaust the stack);
    - an integer of more than 4,300 digits (Python refuses to convert it);
    - text with half of a UTF-16 pair (``"\\ud800"``): Python reads it as a lone surrogate
      that no database can store.

    Text that is not JSON at all is left to the operation's parser (the same 400 problem).
    Raises MalformedRequest, BadRequest.
    """
    try:
        document = json.loads(raw)
    except RecursionError as error:
        raise _malformed(_TOO_DEEP) from error
    except (json.JSONDecodeError, UnicodeDecodeError):
        return
    except ValueError as error:  # int() refused a number: more than 4,300 digits
        raise _malformed("A number in the JSON body has more than 4,300 digits.") from error
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value) is not None:
                raise BadRequest(
                    "The JSON body holds text that is not valid Unicode (an unpaired surrogate "
                    "escape such as \\ud800)."
                )
        elif isinstance(value, dict | list):
            if depth == MAX_JSON_DEPTH:
                raise _malformed(_TOO_DEEP)
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)


_TOO_DEEP = f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep."


def _malformed(detail: str) -> MalformedRequest:
    return MalformedRequest(detail, fields={"body": [detail]})


_SURROGATE = re.compile("[\ud800-\udfff]")
