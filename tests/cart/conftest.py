"""Cart fixtures: an app that records funnel events."""

from __future__ import annotations

import pytest
from flask import Flask

from funnel.analytics import tracking


@pytest.fixture
def tracked(app: Flask) -> Flask:
    """The app with the analytics edge registered (``create_app`` does it once wired)."""
    if "funnel.analytics" not in app.extensions:
        tracking.init_app(app)
    return app
