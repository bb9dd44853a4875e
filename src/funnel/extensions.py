"""Extension objects, unbound: ``create_app`` binds them to an application."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from funnel.core import rate_limit_storage  # noqa: F401  (registers the funnel+sqlite storage)
from funnel.core.api import FunnelApi
from funnel.core.models import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
api = FunnelApi()
