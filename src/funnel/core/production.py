"""What production refuses to start with: settings that work on a laptop but lose mail, money,
sessions or customers in a real shop.

``problems(settings)`` is a plain function of the finished settings (``funnel.config`` passes
it to ``load_settings``, which lists every problem in one error). Each message starts with the
variable to change and says what to set instead. Development and test are exempt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

SECRET_KEY_BYTES = 32
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}  # nosec B104 # noqa: S104 (a name, not a bind)


def is_production(settings: Mapping[str, Any]) -> bool:
    return settings.get("FUNNEL_ENV") not in {"development", "test"}


def problems(settings: Mapping[str, Any]) -> list[str]:
    """One message per unsafe setting, in the order an operator reads ``.env.example``."""
    if not is_production(settings):
        return []
    found: list[str] = []
    for check in (
        _secret_key,
        _database,
        _mail,
        _base_url,
        _csrf,
        _rate_limits,
        _cors,
        _payment_gateways,
        _jobs,
    ):
        message = check(settings)
        if message:
            found.append(message)
    return found


def _secret_key(settings: Mapping[str, Any]) -> str | None:
    key = settings.get("SECRET_KEY")
    if not key:
        return None  # config names a missing key itself
    if len(str(key).encode()) < SECRET_KEY_BYTES:
        return (
            f"FUNNEL_SECRET_KEY must be at least {SECRET_KEY_BYTES} bytes long (anyone who "
            "guesses it signs sessions): generate one with "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    return None


def _database(settings: Mapping[str, Any]) -> str | None:
    url = make_url(settings["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and not settings.get("ALLOW_SQLITE_IN_PRODUCTION"):
        return (
            "FUNNEL_DATABASE_URL is SQLite: set a PostgreSQL or MariaDB URL, or "
            "FUNNEL_ALLOW_SQLITE_IN_PRODUCTION=true for a one-machine shop with few orders"
        )
    return None


def _mail(settings: Mapping[str, Any]) -> str | None:
    if not settings.get("MAIL_HOST"):
        return (
            "FUNNEL_MAIL_HOST must be set: without it order confirmations and password "
            "resets are written to files in the instance folder and never reach customers"
        )
    return None


def _base_url(settings: Mapping[str, Any]) -> str | None:
    base_url = str(settings.get("BASE_URL") or "")
    parts = urlsplit(base_url)
    if parts.scheme != "https" or (parts.hostname or "") in _LOCAL_HOSTS:
        return (
            f"FUNNEL_BASE_URL must be the shop's public https address (links in emails use it), "
            f"not {base_url!r}"
        )
    return None


def _csrf(settings: Mapping[str, Any]) -> str | None:
    if not settings.get("WTF_CSRF_ENABLED", True):
        return "FUNNEL_CSRF_ENABLED must be true: without it any site can submit the shop's forms"
    return None


def _rate_limits(settings: Mapping[str, Any]) -> str | None:
    if not settings.get("RATELIMIT_ENABLED", True):
        return (
            "FUNNEL_RATELIMIT_ENABLED must be true: without it sign-in, registration and "
            "checkout can be tried without limit"
        )
    workers = settings.get("WEB_WORKERS")
    if str(settings.get("RATELIMIT_STORAGE_URI", "")).startswith("memory:") and workers != 1:
        return (
            "FUNNEL_RATELIMIT_STORAGE_URI=memory:// counts in each worker alone "
            f"(workers: {workers or 'not said; set WEB_CONCURRENCY=1 for one'}); leave it unset "
            "(a file shared by this machine's workers) or set FUNNEL_REDIS_URL"
        )
    return None


def _cors(settings: Mapping[str, Any]) -> str | None:
    if "*" in settings.get("CORS_ORIGINS", ()):
        return (
            "FUNNEL_CORS_ORIGINS must name the storefront origins (https://shop.example.com), "
            "not * (any site's scripts could call the API)"
        )
    return None


def _gateway_names(settings: Mapping[str, Any]) -> set[str]:
    return {name.strip() for name in str(settings.get("PAYMENT_GATEWAYS", "")).split(",")}


def _payment_gateways(settings: Mapping[str, Any]) -> str | None:
    names = _gateway_names(settings)
    if "test" in names:
        # The test gateway takes fake cards as payment: never in a shop that ships goods.
        return (
            f"FUNNEL_PAYMENT_GATEWAYS must not include the test gateway when FUNNEL_ENV is "
            f"{settings.get('FUNNEL_ENV')!r}"
        )
    if "stripe" in names:
        missing = [
            f"FUNNEL_{name}"
            for name in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET")
            if not settings.get(name)
        ]
        if missing:
            return (
                f"FUNNEL_PAYMENT_GATEWAYS offers stripe but {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} empty: set them from the Stripe "
                "dashboard (API keys; the webhook endpoint's signing secret) or remove stripe"
            )
        if settings.get("STRIPE_API_BASE"):
            return (
                "FUNNEL_STRIPE_API_BASE must be empty outside tests: payments would be sent "
                "to another server than Stripe's"
            )
    if "manual" in names and not settings.get("BANK_ACCOUNT"):
        return (
            "FUNNEL_PAYMENT_GATEWAYS offers bank transfer (manual) but FUNNEL_BANK_ACCOUNT is "
            "empty: customers would not know where to pay; set the account or remove manual"
        )
    return None


def _jobs(settings: Mapping[str, Any]) -> str | None:
    if not settings.get("CELERY_BROKER_URL") and not settings.get("JOBS_IN_PROCESS"):
        return (
            "FUNNEL_CELERY_BROKER_URL must be set (and a worker and beat run) or "
            "FUNNEL_JOBS_IN_PROCESS=true for one process: otherwise no job runs (expired "
            "reservations, overdue bank transfers, payment reconciliation)"
        )
    return None
