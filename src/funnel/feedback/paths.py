"""Which page a piece of feedback came from: a path on this shop, or nothing.

The path comes from the browser (a link's ``from`` parameter, a hidden field, an API body), so
it is only kept when it is a same-site path: it starts with one ``/`` (``//host`` is another
site), holds no scheme, backslash, control character or space, and loses its query string
and fragment. Staff see it as text and follow it as a link to this shop only.
"""

from __future__ import annotations

PAGE_PATH_LENGTH = 200


def same_site_path(raw: object) -> str | None:
    """``raw`` as a path on this shop without query or fragment, or None when it is not one."""
    if not isinstance(raw, str):
        return None
    path = raw.strip().split("#", 1)[0].split("?", 1)[0]
    if not path.startswith("/") or path.startswith("//"):
        return None
    if "\\" in path or len(path) > PAGE_PATH_LENGTH:
        return None
    if any(character.isspace() or not character.isprintable() for character in path):
        return None
    return path
