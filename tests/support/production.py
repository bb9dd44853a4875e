"""An environment as an operator sets up production correctly: the app starts with it."""

from __future__ import annotations

from pathlib import Path

from tests.support.live_server import TEST_BANK_ACCOUNT


def production_environment(instance: Path) -> dict[str, str]:
    """Every variable production asks for, on SQLite in ``instance`` (allowed by name)."""
    return {
        "FUNNEL_ENV": "production",
        "FUNNEL_SECRET_KEY": "a-production-secret-key-of-more-than-32-bytes",
        "FUNNEL_INSTANCE_PATH": str(instance),
        "FUNNEL_DATABASE_URL": f"sqlite:///{instance / 'funnel.db'}",
        "FUNNEL_ALLOW_SQLITE_IN_PRODUCTION": "true",
        "FUNNEL_MAIL_HOST": "mail.example.com",
        "FUNNEL_BASE_URL": "https://shop.example.com",
        "FUNNEL_PAYMENT_GATEWAYS": "manual",
        "FUNNEL_BANK_ACCOUNT": TEST_BANK_ACCOUNT,
        # Celery connects to its broker only when a job is sent: none is sent at start.
        "FUNNEL_CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
    }
