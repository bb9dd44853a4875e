"""Extension objects, unbound: ``create_app`` binds them to an application.

The database (``db``) and the rate limiter are made in ``core``, whose transactions and error
pages use them; they are handed on here so that every module finds all the extensions in one
place. Nothing in ``core`` imports this module. The migrations are registered by
``core.migrations`` (Flask-Migrate loaded only when something migrates).
"""

from flask_login import LoginManager
from flask_wtf import CSRFProtect

from funnel.core.api import FunnelApi
from funnel.core.database import db
from funnel.core.limits import limiter

__all__ = ["api", "csrf", "db", "limiter", "login_manager"]

login_manager = LoginManager()
csrf = CSRFProtect()
api = FunnelApi()
