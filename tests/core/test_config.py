"""Settings from the environment: every test passes its own mapping, never ``os.environ``."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest

from funnel.config import ConfigurationError, instance_path, load_settings
from funnel.core import production


def test_production_without_a_secret_key_refuses_to_start(tmp_path: Path) -> None:
    # given production and no secret key
    environ = {"FUNNEL_ENV": "production"}

    # when / then
    with pytest.raises(
        ConfigurationError, match=r"^FUNNEL_SECRET_KEY must be set when FUNNEL_ENV is 'production'$"
    ):
        load_settings(str(tmp_path), environ)
    assert list(tmp_path.iterdir()) == []  # no key was generated for production


def test_an_empty_secret_key_counts_as_missing_in_production(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="FUNNEL_SECRET_KEY must be set"):
        load_settings(str(tmp_path), {"FUNNEL_ENV": "production", "FUNNEL_SECRET_KEY": ""})


def test_production_uses_the_given_secret_key_and_secure_cookies(tmp_path: Path) -> None:
    settings = load_settings(
        str(tmp_path), {"FUNNEL_ENV": "production", "FUNNEL_SECRET_KEY": "s3cret-from-env"}
    )

    assert settings["SECRET_KEY"] == "s3cret-from-env"
    assert settings["FUNNEL_ENV"] == "production"
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["REMEMBER_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_HTTPONLY"] is True
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_development_generates_a_private_key_file_and_reuses_it(tmp_path: Path) -> None:
    # given an empty instance folder (that does not exist yet) and no secret key
    instance = tmp_path / "instance"

    # when settings are loaded twice
    first = load_settings(str(instance), {})
    second = load_settings(str(instance), {"FUNNEL_ENV": "development"})

    # then one key was generated into the instance folder, readable by its owner only, and reused
    key_file = instance / "secret_key"
    assert first["SECRET_KEY"] == key_file.read_text()
    assert second["SECRET_KEY"] == first["SECRET_KEY"]
    assert len(first["SECRET_KEY"]) == 64  # token_urlsafe(48): 48 random bytes
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first["FUNNEL_ENV"] == "development"
    assert first["SESSION_COOKIE_SECURE"] is False


def test_development_keys_differ_between_instances(tmp_path: Path) -> None:
    one = load_settings(str(tmp_path / "one"), {})
    two = load_settings(str(tmp_path / "two"), {})

    assert one["SECRET_KEY"] != two["SECRET_KEY"]


def test_an_empty_key_file_is_not_a_secret_key(tmp_path: Path) -> None:
    """A crash or a full disk between creating and writing the key file can leave it empty; the
    secret key must then not be "" (Flask would refuse every session)."""
    # given an instance folder whose key file is empty
    (tmp_path / "secret_key").write_text("")

    # when
    settings = load_settings(str(tmp_path), {})

    # then
    assert len(settings["SECRET_KEY"]) == 64


@pytest.mark.parametrize("name", ["PAGE_SIZE", "MAIL_PORT", "SESSION_IDLE_MINUTES"])
def test_a_malformed_integer_is_a_clear_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(
        ConfigurationError, match=rf"^FUNNEL_{name} must be an integer, not 'twenty'$"
    ):
        load_settings(str(tmp_path), {f"FUNNEL_{name}": "twenty"})


def test_integers_are_read(tmp_path: Path) -> None:
    settings = load_settings(
        str(tmp_path),
        {
            "FUNNEL_PAGE_SIZE": "12",
            "FUNNEL_MAIL_PORT": "2525",
            "FUNNEL_SESSION_ABSOLUTE_MINUTES": "90",
            "FUNNEL_TRUSTED_PROXIES": "1",
        },
    )

    assert settings["PAGE_SIZE"] == 12
    assert settings["MAIL_PORT"] == 2525
    assert settings["SESSION_ABSOLUTE_MINUTES"] == 90
    assert settings["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=90)
    assert settings["TRUSTED_PROXIES"] == 1


@pytest.mark.parametrize(
    ("raw", "value"), [("true", True), ("1", True), ("YES", True), ("on", True)]
)
def test_true_booleans(tmp_path: Path, raw: str, value: bool) -> None:
    settings = load_settings(str(tmp_path), {"FUNNEL_SECURE_COOKIES": raw})

    assert settings["SESSION_COOKIE_SECURE"] is value


@pytest.mark.parametrize("raw", ["false", "0", "no", "off"])
def test_false_booleans(tmp_path: Path, raw: str) -> None:
    settings = load_settings(str(tmp_path), {"FUNNEL_RATELIMIT_ENABLED": raw})

    assert settings["RATELIMIT_ENABLED"] is False


@pytest.mark.parametrize("raw", ["ture", "enabled", "2"])
def test_a_malformed_boolean_is_a_clear_error(tmp_path: Path, raw: str) -> None:
    """A typo must not read as False: FUNNEL_SECURE_COOKIES=ture would turn a security setting
    off. Booleans are as strict as integers."""
    with pytest.raises(ConfigurationError, match="FUNNEL_SECURE_COOKIES"):
        load_settings(
            str(tmp_path),
            {"FUNNEL_ENV": "production", "FUNNEL_SECRET_KEY": "k", "FUNNEL_SECURE_COOKIES": raw},
        )


def test_defaults_without_any_setting(tmp_path: Path) -> None:
    settings = load_settings(str(tmp_path), {})

    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'funnel.db'}"
    assert settings["CURRENCY"] == "USD"
    assert settings["PAGE_SIZE"] == 24
    assert settings["RATELIMIT_ENABLED"] is True
    assert settings["RATELIMIT_STORAGE_URI"] == f"funnel+sqlite:///{tmp_path / 'rate-limits.db'}"
    assert settings["REDIS_URL"] is None
    assert settings["MAIL_HOST"] is None
    assert settings["MAIL_OUTBOX"] == str(tmp_path / "outbox")
    assert settings["MEDIA_ROOT"] == str(tmp_path / "media")
    assert settings["WTF_CSRF_ENABLED"] is True


def test_settings_come_from_the_given_mapping(tmp_path: Path) -> None:
    settings = load_settings(
        str(tmp_path),
        {
            "FUNNEL_DATABASE_URL": "postgresql+psycopg://shop@db/shop",
            "FUNNEL_REDIS_URL": "redis://cache:6379/0",
            "FUNNEL_CURRENCY": "eur",
            "FUNNEL_SHOP_NAME": "Corner Shop",
            "DATABASE_URL": "sqlite:///ignored-without-the-prefix.db",
        },
    )

    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://shop@db/shop"
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/0"
    assert settings["CURRENCY"] == "EUR"
    assert settings["SHOP_NAME"] == "Corner Shop"


def test_instance_path_comes_from_the_mapping_and_is_absolute(tmp_path: Path) -> None:
    assert instance_path({"FUNNEL_INSTANCE_PATH": str(tmp_path / "shop")}) == str(tmp_path / "shop")
    assert Path(instance_path({})).is_absolute()
    assert Path(instance_path({})).name == "instance"


def test_a_secret_key_given_as_an_override_generates_no_key_file(tmp_path: Path) -> None:
    # given development and a key passed by the caller (as tests and embedders do)
    settings = load_settings(str(tmp_path), {}, overrides={"SECRET_KEY": "given"})

    # then that key is used and nothing is written to the instance folder
    assert settings["SECRET_KEY"] == "given"
    assert list(tmp_path.iterdir()) == []


def test_production_refuses_the_test_gateway(tmp_path: Path) -> None:
    environ = {
        "FUNNEL_ENV": "production",
        "FUNNEL_SECRET_KEY": "k",
        "FUNNEL_PAYMENT_GATEWAYS": "manual, test",
    }

    with pytest.raises(ConfigurationError, match="must not include the test gateway"):
        load_settings(str(tmp_path), environ, checks=production.problems)


def test_payment_gateways_default_to_test_and_manual_in_development_only(tmp_path: Path) -> None:
    development = load_settings(str(tmp_path), {})
    production = load_settings(
        str(tmp_path), {"FUNNEL_ENV": "production", "FUNNEL_SECRET_KEY": "k"}
    )

    assert development["PAYMENT_GATEWAYS"] == "test,manual"
    assert production["PAYMENT_GATEWAYS"] == "manual"


def test_mariadb_runs_read_committed_even_when_the_url_is_an_override(tmp_path: Path) -> None:
    settings = load_settings(
        str(tmp_path),
        {},
        overrides={"SQLALCHEMY_DATABASE_URI": "mysql+pymysql://root@127.0.0.1/shop"},
    )

    assert settings["SQLALCHEMY_ENGINE_OPTIONS"] == {
        "pool_pre_ping": True,
        "hide_parameters": True,
        "isolation_level": "READ COMMITTED",
    }


def test_sqlite_and_postgresql_keep_their_default_isolation(tmp_path: Path) -> None:
    sqlite = load_settings(str(tmp_path), {})
    postgresql = load_settings(
        str(tmp_path), {"FUNNEL_DATABASE_URL": "postgresql+psycopg://shop@db/shop"}
    )

    default = {"pool_pre_ping": True, "hide_parameters": True}
    assert sqlite["SQLALCHEMY_ENGINE_OPTIONS"] == default
    assert postgresql["SQLALCHEMY_ENGINE_OPTIONS"] == default


@pytest.mark.story("US-16")
@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://shop:pw@db:5432/shop", "postgresql+psycopg://shop:pw@db:5432/shop"),
        ("postgres://shop:pw@db:5432/shop", "postgresql+psycopg://shop:pw@db:5432/shop"),
        ("POSTGRESQL://shop@db/shop", "postgresql+psycopg://shop@db/shop"),
        ("mysql://shop:p%40ss@db:3306/shop", "mysql+pymysql://shop:p%40ss@db:3306/shop"),
        ("mariadb://shop@db/shop?charset=utf8mb4", "mysql+pymysql://shop@db/shop?charset=utf8mb4"),
        ("postgresql+psycopg://shop@db/shop", "postgresql+psycopg://shop@db/shop"),
        ("mysql+pymysql://shop@db/shop", "mysql+pymysql://shop@db/shop"),
        ("sqlite:////srv/shop/funnel.db", "sqlite:////srv/shop/funnel.db"),
    ],
)
def test_the_database_url_hosts_give_names_the_installed_driver(
    tmp_path: Path, given: str, used: str
) -> None:
    settings = load_settings(str(tmp_path), {"FUNNEL_DATABASE_URL": given})

    assert settings["SQLALCHEMY_DATABASE_URI"] == used
    is_mysql = used.startswith("mysql")
    assert settings["SQLALCHEMY_ENGINE_OPTIONS"] == {
        "pool_pre_ping": True,
        "hide_parameters": True,
        **({"isolation_level": "READ COMMITTED"} if is_mysql else {}),
    }


def test_rate_limits_are_counted_in_the_named_storage_before_redis(tmp_path: Path) -> None:
    settings = load_settings(
        str(tmp_path),
        {"FUNNEL_RATELIMIT_STORAGE_URI": "memory://", "FUNNEL_REDIS_URL": "redis://cache:6379/0"},
    )

    assert settings["RATELIMIT_STORAGE_URI"] == "memory://"


def test_production_refuses_rate_limits_counted_in_each_worker_alone(tmp_path: Path) -> None:
    # given production asking for the in-process storage (each worker would count alone)
    environ = {
        "FUNNEL_ENV": "production",
        "FUNNEL_SECRET_KEY": "k",
        "FUNNEL_RATELIMIT_STORAGE_URI": "memory://",
    }

    # then it refuses to start, saying what to do instead
    with pytest.raises(ConfigurationError) as refused:
        load_settings(str(tmp_path), environ, checks=production.problems)
    assert any(
        problem.startswith("FUNNEL_RATELIMIT_STORAGE_URI=memory:// counts in each worker alone")
        for problem in refused.value.problems
    )


@pytest.mark.parametrize("raw", ["0", "101", "-5"])
def test_the_reservation_share_is_a_percentage(tmp_path: Path, raw: str) -> None:
    with pytest.raises(ConfigurationError, match="FUNNEL_RESERVATION_MAX_SHARE must be a percent"):
        load_settings(str(tmp_path), {"FUNNEL_RESERVATION_MAX_SHARE": raw})


def test_one_client_may_hold_half_a_variants_stock_by_default(tmp_path: Path) -> None:
    assert load_settings(str(tmp_path), {})["RESERVATION_MAX_SHARE"] == 50
    assert (
        load_settings(str(tmp_path), {"FUNNEL_RESERVATION_MAX_SHARE": "100"})[
            "RESERVATION_MAX_SHARE"
        ]
        == 100
    )


@pytest.mark.story("US-29")
def test_the_low_stock_threshold_defaults_to_5_and_is_never_negative(tmp_path: Path) -> None:
    assert load_settings(str(tmp_path), {})["LOW_STOCK_THRESHOLD"] == 5
    settings = load_settings(str(tmp_path), {"FUNNEL_LOW_STOCK_THRESHOLD": "12"})
    assert settings["LOW_STOCK_THRESHOLD"] == 12
    with pytest.raises(
        ConfigurationError,
        match=r"^FUNNEL_LOW_STOCK_THRESHOLD must be 0 or more \(up to 1000000\), not -1$",
    ):
        load_settings(str(tmp_path), {"FUNNEL_LOW_STOCK_THRESHOLD": "-1"})


def test_the_job_queue_is_funnel_unless_named(tmp_path: Path) -> None:
    assert load_settings(str(tmp_path), {})["CELERY_QUEUE"] == "funnel"
    named = load_settings(str(tmp_path), {"FUNNEL_CELERY_QUEUE": "shop-2.jobs"})
    assert named["CELERY_QUEUE"] == "shop-2.jobs"


def test_a_job_queue_name_with_a_space_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigurationError,
        match=r"^FUNNEL_CELERY_QUEUE must be 1 to 100 letters, digits, '\.', '-' or '_', "
        r"not 'my shop'$",
    ):
        load_settings(str(tmp_path), {"FUNNEL_CELERY_QUEUE": "my shop"})
