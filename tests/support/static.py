"""The URL a page links for a static file: its fingerprinted name (funnel.core.static_files)."""

from __future__ import annotations

from pathlib import Path

import funnel
from funnel.core.static_files import manifest_for

STATIC = Path(funnel.__file__).resolve().parent / "static"


def static_path(name: str) -> str:
    """``favicon.svg`` -> ``/static/favicon.<fingerprint>.svg``, as the templates link it."""
    return f"/static/{manifest_for(STATIC).fingerprinted(name)}"
