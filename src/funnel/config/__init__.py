"""Settings, read from the environment (prefix ``FUNNEL_``).

This is the only module that reads the environment. Everything else receives its settings
through ``app.config``.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from funnel.config.reader import INTEGER_RANGES as INTEGER_RANGES
from funnel.config.reader import PREFIX as PREFIX
from funnel.config.reader import ConfigurationError as ConfigurationError
from funnel.config.reader import Reader as _Reader
from funnel.config.reader import without_password as _without_password

# Registered by funnel.core.rate_limit_storage (imported with the limiter).
RATE_LIMIT_SQLITE_SCHEME = "funnel+sqlite"
REDIS_SCHEMES = ("redis", "rediss", "unix")
QUEUE_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
BROKER_SCHEMES = ("redis", "rediss", "amqp", "amqps", "pyamqp", "sqs", "memory")
RATE_LIMIT_SCHEMES = ("redis", "rediss", RATE_LIMIT_SQLITE_SCHEME, "memcached", "memory")
_WORKERS_ARGUMENT = re.compile(r"(?:^|\s)(?:-w\s*|--workers[=\s]+)([0-9]+)(?:\s|$)")
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("debug", "info", "warning", "error")


def web_workers(environ: Mapping[str, str]) -> int | None:
    """How many web processes serve the shop, as gunicorn is told: ``--workers``/``-w`` in
    ``GUNICORN_CMD_ARGS``, else ``WEB_CONCURRENCY`` (gunicorn's default for ``--workers``);
    None when neither says (a configuration file may)."""
    workers = _WORKERS_ARGUMENT.search(environ.get("GUNICORN_CMD_ARGS") or "")
    if workers:
        return int(workers.group(1))
    concurrency = (environ.get("WEB_CONCURRENCY") or "").strip()
    return int(concurrency) if concurrency.isdigit() else None


def _development_secret_key(instance_path: Path) -> str:
    """Generate once, then reuse, a secret key kept in the instance folder (development only)."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        key = key_file.read_text().strip()
        if key:
            return key
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Write a private temporary file, then rename: a crash never leaves an empty key behind.
    temporary = key_file.with_name(f".secret_key.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    os.replace(temporary, key_file)
    return key


def _rate_limit_storage(read: _Reader, instance: Path, redis_url: str | None) -> str:
    """Where rate limits are counted: ``FUNNEL_RATELIMIT_STORAGE_URI``, else Redis, else a
    SQLite file in the instance folder that every worker of this machine shares. (``memory://``
    counts in each process alone: ``funnel.core.production`` allows it for one worker only.)"""
    uri = read.url("RATELIMIT_STORAGE_URI", None, RATE_LIMIT_SCHEMES) or redis_url
    return uri or f"{RATE_LIMIT_SQLITE_SCHEME}:///{instance / 'rate-limits.db'}"


def _database_url(read: _Reader, instance: Path) -> str:
    default = f"sqlite:///{instance / 'funnel.db'}"
    raw = read.text("DATABASE_URL", default) or default
    try:
        url = make_url(with_installed_driver(raw))
    except ArgumentError:
        url = None
    if url is None or url.get_backend_name() not in {"sqlite", "postgresql", "mysql"}:
        read.problems.append(
            f"{PREFIX}DATABASE_URL is not a database URL such as "
            f"postgresql://user:password@host/shop: {_without_password(raw)!r}"
        )
        return default
    return with_installed_driver(raw)


def load_settings(
    instance_path: str,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    checks: Callable[[Mapping[str, Any]], list[str]] | None = None,
) -> dict[str, Any]:
    """Build the Flask configuration mapping from the environment, then apply ``overrides``.

    ``checks`` names what the finished settings may not hold (the app passes production's
    rules). Raises one ConfigurationError naming every malformed value and failed check."""
    environ = os.environ if environ is None else environ
    read = _Reader(environ)
    instance = Path(instance_path)
    overrides = overrides or {}
    environment = overrides.get("FUNNEL_ENV") or read.text("ENV", "development")
    is_development = environment in {"development", "test"}

    secret_key = overrides.get("SECRET_KEY") or read.text("SECRET_KEY")
    if secret_key is None and is_development:
        secret_key = _development_secret_key(instance)
    elif secret_key is None:
        read.problems.append(f"{PREFIX}SECRET_KEY must be set when {PREFIX}ENV is {environment!r}")

    default_gateways = "test,manual" if is_development else "manual"
    payment_gateways = read.text("PAYMENT_GATEWAYS", default_gateways) or default_gateways
    database_url = _database_url(read, instance)
    redis_url = read.url("REDIS_URL", None, REDIS_SCHEMES)
    rate_limit_storage = _rate_limit_storage(read, instance, redis_url)

    settings = {
        "FUNNEL_ENV": environment,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "REDIS_URL": redis_url,
        "CORS_ORIGINS": read.origins("CORS_ORIGINS"),
        "RATELIMIT_STORAGE_URI": rate_limit_storage,
        "RATELIMIT_ENABLED": read.boolean("RATELIMIT_ENABLED", True),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis down: each process counts the same limits in its own memory until Redis
        # answers again (Flask-Limiter checks it now and then), rather than a 500 per request.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "SESSION_COOKIE_NAME": "funnel_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": read.boolean("SECURE_COOKIES", not is_development),
        "REMEMBER_COOKIE_SECURE": read.boolean("SECURE_COOKIES", not is_development),
        # HTTPS only, remembered by browsers for a year (none in development: plain http).
        "HSTS_SECONDS": read.integer("HSTS_SECONDS", 0 if is_development else 365 * 86400),
        "HSTS_INCLUDE_SUBDOMAINS": read.boolean("HSTS_INCLUDE_SUBDOMAINS", True),
        "PERMANENT_SESSION_LIFETIME": timedelta(
            minutes=read.integer("SESSION_ABSOLUTE_MINUTES", 12 * 60)
        ),
        "SESSION_IDLE_MINUTES": read.integer("SESSION_IDLE_MINUTES", 30),
        "SESSION_ABSOLUTE_MINUTES": read.integer("SESSION_ABSOLUTE_MINUTES", 12 * 60),
        # Staff and admin sessions reach money and customers' data: they end sooner.
        "STAFF_SESSION_IDLE_MINUTES": read.integer("STAFF_SESSION_IDLE_MINUTES", 15),
        "STAFF_SESSION_ABSOLUTE_MINUTES": read.integer("STAFF_SESSION_ABSOLUTE_MINUTES", 8 * 60),
        "PASSWORD_RESET_MINUTES": read.integer("PASSWORD_RESET_MINUTES", 60),
        "WTF_CSRF_ENABLED": read.boolean("CSRF_ENABLED", True),
        "WTF_CSRF_TIME_LIMIT": None,
        "MAIL_HOST": read.text("MAIL_HOST"),
        "MAIL_PORT": read.integer("MAIL_PORT", 25),
        "MAIL_USERNAME": read.text("MAIL_USERNAME"),
        "MAIL_PASSWORD": read.text("MAIL_PASSWORD"),
        "MAIL_USE_TLS": read.boolean("MAIL_USE_TLS", False),
        "MAIL_SENDER": read.text("MAIL_SENDER", "Funnel <shop@localhost>"),
        "MAIL_OUTBOX": str(instance / "outbox"),
        "MEDIA_ROOT": read.text("MEDIA_ROOT", str(instance / "media")),
        # Catalogue CSV files between their preview and their confirmation (staff pages).
        "CATALOG_IMPORTS_FOLDER": str(instance / "catalog-imports"),
        "CURRENCY": (read.text("CURRENCY", "USD") or "USD").upper(),
        "SHOP_NAME": read.text("SHOP_NAME", "Funnel"),
        "BASE_URL": read.url("BASE_URL", "http://127.0.0.1:5000", ("https", "http")),
        "PAGE_SIZE": read.integer("PAGE_SIZE", 24),
        # Request bodies: staff upload product images of up to 10 MB; API bodies are JSON.
        "MAX_CONTENT_LENGTH": read.integer("MAX_CONTENT_LENGTH", 16 * 1024 * 1024),
        "API_MAX_CONTENT_LENGTH": read.integer("API_MAX_CONTENT_LENGTH", 1024 * 1024),
        "API_TOKEN_DAYS": read.integer("API_TOKEN_DAYS", 30),
        "IDEMPOTENCY_KEY_HOURS": read.integer("IDEMPOTENCY_KEY_HOURS", 24),
        # Below gunicorn's worker timeout (30 s by default): the shop answers a 503 first.
        "REQUEST_TIMEOUT_SECONDS": read.integer("REQUEST_TIMEOUT_SECONDS", 25),
        "IDEMPOTENCY_LOCK_SECONDS": read.integer("IDEMPOTENCY_LOCK_SECONDS", 60),
        "TRUSTED_PROXIES": read.integer("TRUSTED_PROXIES", 0),
        "CELERY_BROKER_URL": read.url("CELERY_BROKER_URL", None, BROKER_SCHEMES),
        # The queue web processes send jobs to and workers read: one per shop on a shared broker.
        "CELERY_QUEUE": read.matching(
            "CELERY_QUEUE", "funnel", QUEUE_NAME, "1 to 100 letters, digits, '.', '-' or '_'"
        ),
        "JOBS_IN_PROCESS": read.boolean("JOBS_IN_PROCESS", False),
        # SQLite serves one machine's few writers: production asks for it by name.
        "ALLOW_SQLITE_IN_PRODUCTION": read.boolean("ALLOW_SQLITE_IN_PRODUCTION", False),
        # How many web processes gunicorn runs (None: not said in the environment).
        "WEB_WORKERS": web_workers(environ),
        # json (one object per line) or text; json by default outside development and test.
        "LOG_FORMAT": read.choice("LOG_FORMAT", "text" if is_development else "json", LOG_FORMATS),
        "LOG_LEVEL": read.choice("LOG_LEVEL", "info", LOG_LEVELS),
        "PAYMENT_GATEWAYS": payment_gateways,
        "TEST_GATEWAY_WEBHOOK_SECRET": read.text("TEST_GATEWAY_WEBHOOK_SECRET"),
        "TEST_GATEWAY_SETTLE_SECONDS": read.integer("TEST_GATEWAY_SETTLE_SECONDS", 5),
        "TEST_GATEWAY_LATENCY_MS": read.integer("TEST_GATEWAY_LATENCY_MS", 0),
        # Stripe (``stripe`` in PAYMENT_GATEWAYS): the account's API keys and the signing
        # secret of its webhook endpoint; production refuses stripe without them.
        "STRIPE_SECRET_KEY": read.text("STRIPE_SECRET_KEY"),
        "STRIPE_PUBLISHABLE_KEY": read.text("STRIPE_PUBLISHABLE_KEY"),
        "STRIPE_WEBHOOK_SECRET": read.text("STRIPE_WEBHOOK_SECRET"),
        # Another address for Stripe's API (tests point it at a local stand-in); production
        # refuses it.
        "STRIPE_API_BASE": read.url("STRIPE_API_BASE", None, ("https", "http")),
        "MANUAL_PAYMENT_DAYS": read.integer("MANUAL_PAYMENT_DAYS", 7),
        "RESERVATION_MINUTES": read.integer("RESERVATION_MINUTES", 15),
        "RESERVATION_MAX_SHARE": read.integer("RESERVATION_MAX_SHARE", 50),
        # Available units at or below which a variant is low on stock, unless it has its own.
        "LOW_STOCK_THRESHOLD": read.integer("LOW_STOCK_THRESHOLD", 5),
        "ANALYTICS_RETENTION_DAYS": read.integer("ANALYTICS_RETENTION_DAYS", 396),
        # Product views are written in batches at most this old (analytics.batches); 0: each
        # at once, in its request.
        "ANALYTICS_BATCH_MILLISECONDS": read.integer("ANALYTICS_BATCH_MILLISECONDS", 1000),
        # Storefront pages every unknown visitor sees alike are kept this long in each worker
        # (core.page_cache): a change shows within it. 0: every page rendered afresh.
        "PAGE_CACHE_SECONDS": read.integer("PAGE_CACHE_SECONDS", 2),
        "CART_RETENTION_DAYS": read.integer("CART_RETENTION_DAYS", 30),
        "SHIPPING_METHODS": read.text(
            "SHIPPING_METHODS", "standard:Standard:4.99,express:Express:14.99"
        ),
        "FREE_SHIPPING_THRESHOLD": read.text("FREE_SHIPPING_THRESHOLD", "50.00"),
        "FREE_SHIPPING_METHODS": read.text("FREE_SHIPPING_METHODS", "standard"),
        "TAX_RATES": read.text("TAX_RATES", "GB:2000,DE:1900,FR:2000,US:0"),
        "DEFAULT_TAX_RATE": read.integer("DEFAULT_TAX_RATE", 0),
        # Storefront prices shown with tax included (true) or net (false): a new shop's value
        # of the setting staff change on the settings page.
        "PRICES_INCLUDE_TAX": read.boolean("PRICES_INCLUDE_TAX", False),
        # The shop's own country (ISO code): whose tax a shopper without an address sees.
        "SHOP_COUNTRY": read.text("SHOP_COUNTRY", ""),
        # The shop's time zone (IANA name): whose days the reports count in.
        "TIME_ZONE": read.text("TIME_ZONE", "UTC"),
        # /metrics: a bearer token and/or the addresses allowed to scrape (core.metrics_http).
        "METRICS_TOKEN": read.text("METRICS_TOKEN"),
        "METRICS_ALLOW": read.networks("METRICS_ALLOW"),
        # prometheus-client's own variable (no FUNNEL_ prefix): every gunicorn worker writes
        # its metrics there and /metrics sums them.
        "METRICS_MULTIPROCESS_DIR": environ.get("PROMETHEUS_MULTIPROC_DIR") or None,
        # Days after delivery in which customers may ask for a return: a new shop's value of
        # the setting staff change on the settings page.
        "RETURN_WINDOW_DAYS": read.text("RETURN_WINDOW_DAYS", "30"),
    }
    # "Holder;IBAN or account number;BIC or sort code;Bank name": bank transfer is offered
    # only once a shop has a bank account (settings.values.parse_bank_account reads it).
    bank_account = read.text("BANK_ACCOUNT")
    if bank_account:
        settings["BANK_ACCOUNT"] = bank_account
    bank_transfer_details = read.text("BANK_TRANSFER_DETAILS")
    if bank_transfer_details:
        settings["BANK_TRANSFER_DETAILS"] = bank_transfer_details
    settings.update(overrides)
    if "SQLALCHEMY_ENGINE_OPTIONS" not in overrides:
        # Follow the database actually used, which an override may have changed.
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(settings["SQLALCHEMY_DATABASE_URI"])
    problems = list(read.problems)
    named = {problem.split()[0].split("=")[0].rstrip(":") for problem in problems}
    for problem in checks(settings) if checks else []:
        if problem.split()[0].split("=")[0].rstrip(":") not in named:  # said once per variable
            problems.append(problem)
    if problems:
        raise ConfigurationError(*problems)
    return settings


# The URL schemes hosts hand out, and the driver Funnel installs for each (SQLAlchemy's own
# defaults, psycopg2 and mysqlclient, are not installed). MariaDB goes through the mysql dialect,
# which recognises MariaDB servers, as every test runs it.
_INSTALLED_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}


def with_installed_driver(database_url: str) -> str:
    """``database_url`` with the driver Funnel installs named in its scheme:
    ``postgresql://`` and ``postgres://`` become ``postgresql+psycopg://``, ``mysql://`` and
    ``mariadb://`` become ``mysql+pymysql://``. A URL that names its driver is kept as it is.
    Only the scheme changes (the rest, escapes included, is kept byte for byte)."""
    scheme, separator, rest = database_url.partition("://")
    driver = _INSTALLED_DRIVERS.get(scheme.lower()) if separator else None
    return f"{driver}://{rest}" if driver else database_url


def engine_options(database_url: str) -> dict[str, Any]:
    """MariaDB/MySQL run READ COMMITTED, as PostgreSQL does by default: a transaction that
    locks a row then reads it sees the latest committed data, and gap locks cannot deadlock
    concurrent checkouts."""
    # A failed statement's error (logged with a 500) shows no parameters: they may hold
    # customers' data and token hashes.
    options: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
    if database_url.startswith(("mysql", "mariadb")):
        options["isolation_level"] = "READ COMMITTED"
    return options


def instance_path(environ: Mapping[str, str] | None = None) -> str:
    """The instance folder (database, media, outbox, generated secret): ``FUNNEL_INSTANCE_PATH``
    or ``instance/`` in the working directory."""
    environ = os.environ if environ is None else environ
    return str(Path(environ.get(PREFIX + "INSTANCE_PATH") or "instance").resolve())


def migrations_directory() -> str:
    """Alembic scripts ship inside the package so that an installed Funnel can migrate."""
    return str(Path(__file__).parent.parent / "migrations")
