"""The application's one rate limiter, unbound (``create_app`` binds it; the domains declare
their limits with it, through ``funnel.extensions``).

Importing this module registers the ``funnel+sqlite`` counter storage that the limiter may be
configured to use (see ``rate_limit_storage``).
"""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from funnel.core import rate_limit_storage  # noqa: F401  (registers the funnel+sqlite storage)

limiter = Limiter(key_func=get_remote_address, default_limits=[])
