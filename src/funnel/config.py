"""Settings, read from the environment (prefix ``FUNNEL_``).

This is the only module that reads the environment. Everything else receives its settings
through ``app.config``.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

PREFIX = "FUNNEL_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# Registered by funnel.core.rate_limit_storage (imported with the limiter).
RATE_LIMIT_SQLITE_SCHEME = "funnel+sqlite"
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


class ConfigurationError(RuntimeError):
    """The environment asks for something Funnel cannot run with."""


def _env(environ: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    value = environ.get(PREFIX + name)
    return default if value in (None, "") else value


def _env_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = _env(environ, name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ConfigurationError(f"{PREFIX}{name} must be an integer, not {raw!r}") from error


def _percent(environ: Mapping[str, str], name: str, default: int) -> int:
    value = _env_int(environ, name, default)
    if not 1 <= value <= 100:
        raise ConfigurationError(f"{PREFIX}{name} must be a percentage from 1 to 100, not {value}")
    return value


def _non_negative(environ: Mapping[str, str], name: str, default: int) -> int:
    value = _env_int(environ, name, default)
    if value < 0:
        raise ConfigurationError(f"{PREFIX}{name} must be 0 or more, not {value}")
    return value


def _env_bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _env(environ, name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    # A typo must not silently turn a security setting off.
    raise ConfigurationError(f"{PREFIX}{name} must be true or false, not {raw!r}")


def _env_origins(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of web origins (``https://shop.example.com``) or ``*``."""
    origins = tuple(
        origin.strip().rstrip("/")
        for origin in (_env(environ, name) or "").split(",")
        if origin.strip()
    )
    for origin in origins:
        if origin != "*" and not _ORIGIN.fullmatch(origin):
            raise ConfigurationError(
                f"{PREFIX}{name}: {origin!r} is not an origin such as https://shop.example.com"
            )
    return origins


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


def _rate_limit_storage(
    environ: Mapping[str, str], instance: Path, redis_url: str | None, is_development: bool
) -> str:
    """Where rate limits are counted: ``FUNNEL_RATELIMIT_STORAGE_URI``, else Redis, else a
    SQLite file in the instance folder that every worker of this machine shares.

    ``memory://`` counts in each process alone (four workers, four times the limit): tests
    and single-process development only.
    """
    uri = _env(environ, "RATELIMIT_STORAGE_URI") or redis_url
    uri = uri or f"{RATE_LIMIT_SQLITE_SCHEME}:///{instance / 'rate-limits.db'}"
    if uri.startswith("memory:") and not is_development:
        raise ConfigurationError(
            f"{PREFIX}RATELIMIT_STORAGE_URI=memory:// counts in each worker alone; leave it "
            f"unset (a file shared by this machine's workers) or set {PREFIX}REDIS_URL"
        )
    return uri


def load_settings(
    instance_path: str,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the Flask configuration mapping from the environment, then apply ``overrides``.

    Raises ConfigurationError when production lacks a secret key or a value is malformed.
    """
    environ = os.environ if environ is None else environ
    instance = Path(instance_path)
    environment = _env(environ, "ENV", "development")
    is_development = environment in {"development", "test"}

    overrides = overrides or {}
    secret_key = overrides.get("SECRET_KEY") or _env(environ, "SECRET_KEY")
    if secret_key is None:
        if not is_development:
            raise ConfigurationError(
                f"{PREFIX}SECRET_KEY must be set when {PREFIX}ENV is {environment!r}"
            )
        secret_key = _development_secret_key(instance)

    default_gateways = "test,manual" if is_development else "manual"
    payment_gateways = _env(environ, "PAYMENT_GATEWAYS", default_gateways) or default_gateways
    if not is_development and "test" in {name.strip() for name in payment_gateways.split(",")}:
        # The test gateway takes fake cards as payment: never in a shop that ships goods.
        raise ConfigurationError(
            f"{PREFIX}PAYMENT_GATEWAYS must not include the test gateway when {PREFIX}ENV is "
            f"{environment!r}"
        )
    database_url = with_installed_driver(
        _env(environ, "DATABASE_URL", f"sqlite:///{instance / 'funnel.db'}") or ""
    )
    redis_url = _env(environ, "REDIS_URL")
    rate_limit_storage = _rate_limit_storage(environ, instance, redis_url, is_development)

    settings = {
        "FUNNEL_ENV": environment,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "REDIS_URL": redis_url,
        "CORS_ORIGINS": _env_origins(environ, "CORS_ORIGINS"),
        "RATELIMIT_STORAGE_URI": rate_limit_storage,
        "RATELIMIT_ENABLED": _env_bool(environ, "RATELIMIT_ENABLED", True),
        "RATELIMIT_HEADERS_ENABLED": True,
        "SESSION_COOKIE_NAME": "funnel_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env_bool(environ, "SECURE_COOKIES", not is_development),
        "REMEMBER_COOKIE_SECURE": _env_bool(environ, "SECURE_COOKIES", not is_development),
        # HTTPS only, remembered by browsers for a year (none in development: plain http).
        "HSTS_SECONDS": _env_int(environ, "HSTS_SECONDS", 0 if is_development else 365 * 86400),
        "HSTS_INCLUDE_SUBDOMAINS": _env_bool(environ, "HSTS_INCLUDE_SUBDOMAINS", True),
        "PERMANENT_SESSION_LIFETIME": timedelta(
            minutes=_env_int(environ, "SESSION_ABSOLUTE_MINUTES", 12 * 60)
        ),
        "SESSION_IDLE_MINUTES": _env_int(environ, "SESSION_IDLE_MINUTES", 30),
        "SESSION_ABSOLUTE_MINUTES": _env_int(environ, "SESSION_ABSOLUTE_MINUTES", 12 * 60),
        # Staff and admin sessions reach money and customers' data: they end sooner.
        "STAFF_SESSION_IDLE_MINUTES": _env_int(environ, "STAFF_SESSION_IDLE_MINUTES", 15),
        "STAFF_SESSION_ABSOLUTE_MINUTES": _env_int(
            environ, "STAFF_SESSION_ABSOLUTE_MINUTES", 8 * 60
        ),
        "PASSWORD_RESET_MINUTES": _env_int(environ, "PASSWORD_RESET_MINUTES", 60),
        "WTF_CSRF_ENABLED": _env_bool(environ, "CSRF_ENABLED", True),
        "WTF_CSRF_TIME_LIMIT": None,
        "MAIL_HOST": _env(environ, "MAIL_HOST"),
        "MAIL_PORT": _env_int(environ, "MAIL_PORT", 25),
        "MAIL_USERNAME": _env(environ, "MAIL_USERNAME"),
        "MAIL_PASSWORD": _env(environ, "MAIL_PASSWORD"),
        "MAIL_USE_TLS": _env_bool(environ, "MAIL_USE_TLS", False),
        "MAIL_SENDER": _env(environ, "MAIL_SENDER", "Funnel <shop@localhost>"),
        "MAIL_OUTBOX": str(instance / "outbox"),
        "MEDIA_ROOT": _env(environ, "MEDIA_ROOT", str(instance / "media")),
        # Catalogue CSV files between their preview and their confirmation (staff pages).
        "CATALOG_IMPORTS_FOLDER": str(instance / "catalog-imports"),
        "CURRENCY": (_env(environ, "CURRENCY", "USD") or "USD").upper(),
        "SHOP_NAME": _env(environ, "SHOP_NAME", "Funnel"),
        "BASE_URL": _env(environ, "BASE_URL", "http://127.0.0.1:5000"),
        "PAGE_SIZE": _env_int(environ, "PAGE_SIZE", 24),
        # Request bodies: staff upload product images of up to 10 MB; API bodies are JSON.
        "MAX_CONTENT_LENGTH": _env_int(environ, "MAX_CONTENT_LENGTH", 16 * 1024 * 1024),
        "API_MAX_CONTENT_LENGTH": _env_int(environ, "API_MAX_CONTENT_LENGTH", 1024 * 1024),
        "API_TOKEN_DAYS": _env_int(environ, "API_TOKEN_DAYS", 30),
        "IDEMPOTENCY_KEY_HOURS": _env_int(environ, "IDEMPOTENCY_KEY_HOURS", 24),
        # Below gunicorn's worker timeout (30 s by default): the shop answers a 503 first.
        "REQUEST_TIMEOUT_SECONDS": _env_int(environ, "REQUEST_TIMEOUT_SECONDS", 25),
        "IDEMPOTENCY_LOCK_SECONDS": _env_int(environ, "IDEMPOTENCY_LOCK_SECONDS", 60),
        "TRUSTED_PROXIES": _env_int(environ, "TRUSTED_PROXIES", 0),
        "CELERY_BROKER_URL": _env(environ, "CELERY_BROKER_URL"),
        "JOBS_IN_PROCESS": _env_bool(environ, "JOBS_IN_PROCESS", False),
        "PAYMENT_GATEWAYS": payment_gateways,
        "TEST_GATEWAY_WEBHOOK_SECRET": _env(environ, "TEST_GATEWAY_WEBHOOK_SECRET"),
        "TEST_GATEWAY_SETTLE_SECONDS": _env_int(environ, "TEST_GATEWAY_SETTLE_SECONDS", 5),
        "TEST_GATEWAY_LATENCY_MS": _env_int(environ, "TEST_GATEWAY_LATENCY_MS", 0),
        "MANUAL_PAYMENT_DAYS": _env_int(environ, "MANUAL_PAYMENT_DAYS", 7),
        "RESERVATION_MINUTES": _env_int(environ, "RESERVATION_MINUTES", 15),
        "RESERVATION_MAX_SHARE": _percent(environ, "RESERVATION_MAX_SHARE", 50),
        # Available units at or below which a variant is low on stock, unless it has its own.
        "LOW_STOCK_THRESHOLD": _non_negative(environ, "LOW_STOCK_THRESHOLD", 5),
        "ANALYTICS_RETENTION_DAYS": _env_int(environ, "ANALYTICS_RETENTION_DAYS", 396),
        "CART_RETENTION_DAYS": _env_int(environ, "CART_RETENTION_DAYS", 30),
        "SHIPPING_METHODS": _env(
            environ, "SHIPPING_METHODS", "standard:Standard:4.99,express:Express:14.99"
        ),
        "FREE_SHIPPING_THRESHOLD": _env(environ, "FREE_SHIPPING_THRESHOLD", "50.00"),
        "FREE_SHIPPING_METHODS": _env(environ, "FREE_SHIPPING_METHODS", "standard"),
        "TAX_RATES": _env(environ, "TAX_RATES", "GB:2000,DE:1900,FR:2000,US:0"),
        "DEFAULT_TAX_RATE": _env_int(environ, "DEFAULT_TAX_RATE", 0),
        # Storefront prices shown with tax included (true) or net (false): a new shop's value
        # of the setting staff change on the settings page.
        "PRICES_INCLUDE_TAX": _env_bool(environ, "PRICES_INCLUDE_TAX", False),
        # The shop's own country (ISO code): whose tax a shopper without an address sees.
        "SHOP_COUNTRY": _env(environ, "SHOP_COUNTRY", ""),
        # The shop's time zone (IANA name): whose days the reports count in.
        "TIME_ZONE": _env(environ, "TIME_ZONE", "UTC"),
        # Days after delivery in which customers may ask for a return: a new shop's value of
        # the setting staff change on the settings page.
        "RETURN_WINDOW_DAYS": _env(environ, "RETURN_WINDOW_DAYS", "30"),
    }
    # "Holder;IBAN or account number;BIC or sort code;Bank name": bank transfer is offered
    # only once a shop has a bank account (settings.values.parse_bank_account reads it).
    bank_account = _env(environ, "BANK_ACCOUNT")
    if bank_account:
        settings["BANK_ACCOUNT"] = bank_account
    bank_transfer_details = _env(environ, "BANK_TRANSFER_DETAILS")
    if bank_transfer_details:
        settings["BANK_TRANSFER_DETAILS"] = bank_transfer_details
    settings.update(overrides)
    if "SQLALCHEMY_ENGINE_OPTIONS" not in overrides:
        # Follow the database actually used, which an override may have changed.
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(settings["SQLALCHEMY_DATABASE_URI"])
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
    options: dict[str, Any] = {"pool_pre_ping": True}
    if database_url.startswith(("mysql", "mariadb")):
        options["isolation_level"] = "READ COMMITTED"
    return options


def instance_path(environ: Mapping[str, str] | None = None) -> str:
    """The instance folder (database, media, outbox, generated secret): ``FUNNEL_INSTANCE_PATH``
    or ``instance/`` in the working directory."""
    environ = os.environ if environ is None else environ
    return str(Path(_env(environ, "INSTANCE_PATH", "instance") or "instance").resolve())


def migrations_directory() -> str:
    """Alembic scripts ship inside the package so that an installed Funnel can migrate."""
    return str(Path(__file__).parent / "migrations")
