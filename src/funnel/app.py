"""The application factory: the only place where an app is built."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from funnel import config as settings
from funnel.accounts.postal import address_lines
from funnel.core import (
    cors,
    deadline,
    migrations,
    operations,
    page_cache,
    production,
    rate_limit_headers,
    static_files,
)
from funnel.core.api import api_settings, docs_bp
from funnel.core.api.bodies import limit_api_bodies
from funnel.core.database import configure_engine
from funnel.core.http import add_security_headers, register_error_handlers
from funnel.core.jobs import init_celery
from funnel.core.money import Money
from funnel.extensions import api, csrf, db, limiter, login_manager


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build a configured Funnel application.

    ``overrides`` replace settings read from the environment (tests use it).
    """
    app = Flask(__name__, instance_path=settings.instance_path(), instance_relative_config=True)
    app.config.update(
        settings.load_settings(app.instance_path, overrides=overrides, checks=production.problems)
    )
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Behind nginx: trust X-Forwarded-For/-Proto/-Host from that many proxies, so that
        # rate limits key on the client's address and links use the public scheme.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    operations.init_app(app)  # logs (JSON in production) with request ids; /healthz, /readyz
    check_settings(app)
    create_database_folder(app)
    register_extensions(app)
    # Early: its before_request starts the clock first and its after_request runs last.
    register_metrics(app)
    register_models()
    register_session_hooks()
    register_blueprints(app)
    register_errors(app)
    register_cli(app)
    register_templates(app)
    return app


def check_settings(app: Flask) -> None:
    """Refuse to start on settings that would make the shop misbehave quietly."""
    from funnel.payments.gateways import unknown_gateway_names

    unknown = unknown_gateway_names(app.config["PAYMENT_GATEWAYS"])
    if unknown:
        raise settings.ConfigurationError(
            f"FUNNEL_PAYMENT_GATEWAYS names unknown gateways: {', '.join(unknown)} "
            "(known: test, manual, cod, stripe)"
        )


def create_database_folder(app: Flask) -> None:
    """SQLite makes its file but not the folder: create the instance folder when the database
    file is in it (the default), so that a first ``db upgrade`` on a new instance works."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    folder = Path(url.database).parent
    instance = Path(app.instance_path)
    if folder == instance or instance in folder.parents:
        folder.mkdir(parents=True, exist_ok=True)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrations.init_app(
        app, db, directory=settings.migrations_directory(), render_as_batch=True, compare_type=True
    )
    csrf.init_app(app)
    page_cache.init_app(app)  # after csrf: its csrf_token() knows about kept pages
    # Before the limiter: after_request hooks run last-registered first, so the headers are
    # written once the limiter has counted this request (failures-only limits count late).
    rate_limit_headers.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    for name, value in api_settings(app).items():
        app.config.setdefault(name, value)
    api.init_app(app)
    register_jobs(app)
    with app.app_context():
        configure_engine(db.engine, statement_timeout_seconds=app.config["REQUEST_TIMEOUT_SECONDS"])


# Each domain's tasks module: importing it registers its Celery tasks; its BEAT_SCHEDULE (if
# any) lists the periodic ones.
TASK_MODULES = (
    "funnel.accounts.tasks",
    "funnel.analytics.tasks",
    "funnel.cart.tasks",
    "funnel.checkout.tasks",
    "funnel.core.tasks",
    "funnel.inventory.tasks",
    "funnel.orders.tasks",
    "funnel.payments.tasks",
    "funnel.reports.tasks",
)


def register_jobs(app: Flask) -> None:
    schedule: dict[str, Any] = {}
    for name in TASK_MODULES:
        module = importlib.import_module(name)
        schedule.update(getattr(module, "BEAT_SCHEDULE", {}))
    app.config.setdefault("CELERY_BEAT_SCHEDULE", schedule)
    init_celery(app)


def register_models() -> None:
    """Load every domain's models, so that the metadata (migrations, tests) holds all tables."""
    import funnel.accounts.models
    import funnel.analytics.models
    import funnel.audit.models
    import funnel.cart.models
    import funnel.catalog.models
    import funnel.checkout.models
    import funnel.core.idempotency
    import funnel.core.outbox
    import funnel.core.request_minutes
    import funnel.feedback.models
    import funnel.inventory.models
    import funnel.orders.models
    import funnel.payments.gateways.test.sandbox
    import funnel.payments.models
    import funnel.settings.models  # noqa: F401


def register_session_hooks() -> None:
    """Hooks on every session of the app: a catalogue write changes the catalogue version in
    its own transaction, whatever service or loader made it."""
    from funnel.catalog.versions import watch_catalogue_changes

    watch_catalogue_changes()


def register_blueprints(app: Flask) -> None:
    from funnel.accounts import access as accounts_access
    from funnel.accounts import api as accounts_api
    from funnel.accounts.views import bp as accounts_bp
    from funnel.analytics import tracking
    from funnel.cart import access as cart_access
    from funnel.cart import api as cart_api
    from funnel.cart.views import bp as cart_bp
    from funnel.catalog import api as catalog_api
    from funnel.catalog.views import bp as catalog_bp
    from funnel.catalog.views import media_bp
    from funnel.checkout import api as checkout_api
    from funnel.checkout.views import bp as checkout_bp
    from funnel.checkout.webhooks import bp as webhooks_bp
    from funnel.feedback import api as feedback_api
    from funnel.feedback.views import bp as feedback_bp
    from funnel.orders import api as orders_api
    from funnel.orders.views import bp as orders_bp
    from funnel.payments.gateways.test.views import bp as test_gateway_bp
    from funnel.staff import api as staff_api
    from funnel.staff.views import bp as staff_bp

    accounts_access.init_app(app)
    cart_access.init_app(app)
    tracking.init_app(
        app,
        is_excluded=accounts_access.is_staff_request,
        user_id=accounts_access.request_account_id,
    )
    app.register_blueprint(catalog_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(orders_bp)
    app.register_blueprint(cart_bp)
    app.register_blueprint(checkout_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(feedback_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(test_gateway_bp)
    register_api(
        app,
        shoppers=(
            accounts_api.bp,
            catalog_api.bp,
            cart_api.bp,
            checkout_api.bp,
            orders_api.bp,
            feedback_api.bp,
        ),
        staff=(staff_api.bp,),
    )


def register_api(app: Flask, *, shoppers: tuple[Any, ...], staff: tuple[Any, ...]) -> None:
    """The JSON API: documented blueprints (bearer tokens, so no CSRF), the spec and docs.

    The shoppers' operations take the sales funnel's visitor header; staff are never counted.
    """
    from funnel.analytics.tracking import VISITOR_HEADER, VISITOR_PARAMETER, VISITOR_PARAMETER_NAME

    api.spec.components.parameter(
        VISITOR_PARAMETER_NAME, "header", {**VISITOR_PARAMETER, "name": VISITOR_HEADER}
    )
    for blueprint in shoppers + staff:
        csrf.exempt(blueprint)
        counted = blueprint in shoppers
        api.register_blueprint(
            blueprint,
            parameters=[VISITOR_PARAMETER_NAME] if counted else None,
            common_errors=(400,) if counted else (),
        )
    app.register_blueprint(docs_bp)
    app.before_request(limit_api_bodies)
    cors.init_app(app)


def register_errors(app: Flask) -> None:
    register_error_handlers(app)
    app.after_request(add_security_headers)
    deadline.init_app(app)


def register_cli(app: Flask) -> None:
    from funnel.cli import register_commands

    register_commands(app)


def register_metrics(app: Flask) -> None:
    """``/metrics`` for Prometheus, request and SQL measures, and job runs."""
    from funnel.core import metrics_http, metrics_jobs, request_minutes

    metrics_http.init_app(app)
    request_minutes.init_app(app)  # the Operations page's traffic, without Prometheus
    metrics_jobs.connect()


def register_templates(app: Flask) -> None:
    def format_money(amount: int, currency: str) -> str:
        return Money(amount, currency).format()

    app.jinja_env.filters["money"] = format_money
    # Every printed postal address goes through one filter (templates/_postal.html).
    app.jinja_env.filters["postal_lines"] = address_lines
    app.context_processor(shop_context)
    # /static/ under fingerprinted names, cached a year; templates link them with static_url().
    static_files.init_app(app)


def shop_context() -> dict[str, Any]:
    """The shop's settings for every template, ``shop`` and ``shop_name``: read once per
    request, so that a change saved in any worker shows on the next page of every worker."""
    from funnel.settings.queries import current_settings, initial_settings

    try:
        shop = current_settings()
    except SQLAlchemyError:
        # The database is down (or this request's transaction failed): the error page still
        # renders, with the initial values.
        logging.getLogger(__name__).warning("settings unreadable: initial values shown")
        shop = initial_settings()
    return {"shop": shop, "shop_name": shop.shop_name}
