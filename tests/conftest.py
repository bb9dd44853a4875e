"""Fixtures shared by every test: an app per database backend, a real SMTP server, clients.

Tests that use ``app`` (or ``client``, ``db_session``...) run once per backend: SQLite always,
PostgreSQL and MariaDB when ``FUNNEL_TEST_POSTGRES_URL`` / ``FUNNEL_TEST_MYSQL_URL`` are set.
Locally a missing backend is a visible skip; under ``CI=true`` it is a failure.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, has_app_context
from flask.testing import FlaskClient

from funnel import create_app
from funnel.catalog.listing import LISTING_CACHE
from funnel.core.logs import remove_logging
from funnel.core.page_cache import EXTENSION as PAGE_CACHE
from funnel.extensions import db, limiter
from tests.support.databases import BACKENDS, DatabaseProvider, WrittenTables
from tests.support.live_server import TEST_BANK_ACCOUNT
from tests.support.mailbox import Mailbox, SmtpServer

# The API tests' fixtures (bearer tokens), for the API tests beside each domain.
pytest_plugins = ["tests.support.api"]

IS_CI = os.environ.get("CI", "").lower() == "true"
# Set, every test checks that the tables it did not write were left empty (slow: a check of the
# harness itself, not of the shop).
CHECK_RESETS = os.environ.get("FUNNEL_TEST_CHECK_RESETS", "").lower() == "true"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "config(**settings): app settings for this test")
    config.addinivalue_line("markers", "backends(*names): only run on these database backends")
    config.addinivalue_line(
        "markers", "own_app: the test changes the app itself (routes, hooks, jobs): a new app"
    )


# Session fixtures too costly for every worker to build its own: the browser tests' shop.
COSTLY_SESSION_FIXTURES = frozenset({"live_server", "browser"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep the tests that share a costly fixture (a live shop, a browser) on one worker.

    Under ``pytest -n`` (pytest-xdist with ``--dist loadgroup``) each worker would otherwise
    start its own gunicorn for a module-scoped server: the same tests, slower. Tests on the
    session's live shop form one group; tests on a module- or class-scoped fixture form one
    group per module and parameter (the SQLite, PostgreSQL and MariaDB servers may run side by
    side on different workers).
    """
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        shared: list[str] = []
        session_wide = False
        for name, definitions in info.name2fixturedefs.items():
            scope = definitions[-1].scope
            if scope == "session" and name in COSTLY_SESSION_FIXTURES:
                session_wide = True
            elif scope in ("module", "class", "package"):
                shared.append(name)
        if session_wide:
            item.add_marker(pytest.mark.xdist_group("session-live-shop"))
        elif shared:
            params = getattr(item, "callspec", None)
            values = [str(params.params.get(name, "")) for name in sorted(shared)] if params else []
            group = "::".join([item.nodeid.split("::")[0], *values])
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(autouse=True)
def _logs_left_to_pytest() -> Iterator[None]:
    """A test that built a production app (whose logs go to standard output) does not leave
    that handler to the next tests: their output (CLI commands) stays their own."""
    yield
    remove_logging()


@pytest.fixture(autouse=True)
def _no_listing_counts_of_earlier_tests() -> None:
    """Each test counts listings from its own rows: the rows of earlier tests are gone, and their
    version row with them, so a count kept under a version read then must not be found."""
    LISTING_CACHE.clear()


def missing_service(reason: str) -> None:
    """Skip locally, fail under CI: a service CI was promised must be there."""
    if IS_CI:
        pytest.fail(f"{reason} (CI=true: every service must be reachable)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def database_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseProvider]:
    provider = DatabaseProvider(tmp_path_factory.mktemp("databases"))
    yield provider
    provider.drop_all()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(smtp_server: SmtpServer) -> Mailbox:
    """The messages the app sent during this test, received over real SMTP."""
    smtp_server.mailbox.clear()
    return smtp_server.mailbox


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    only = request.node.get_closest_marker("backends")
    if only and request.param not in only.args:
        pytest.skip(f"this test runs on {', '.join(only.args)} only")
    return request.param


@pytest.fixture(scope="session")
def applications(database_provider: DatabaseProvider) -> Iterator[dict[tuple[str, str], Flask]]:
    """The apps built so far, one per backend and ``config`` marker, kept for the session:
    building an app per test cost more than most tests."""
    built: dict[tuple[str, str], Flask] = {}
    yield built
    for application in built.values():
        with application.app_context():
            db.engine.dispose()


@pytest.fixture
def app(
    request: pytest.FixtureRequest,
    backend: str,
    database_provider: DatabaseProvider,
    applications: dict[tuple[str, str], Flask],
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> Iterator[Flask]:
    """The app of this backend and configuration, in an application context of the test's own,
    on empty tables, with this test's own outbox, media folder and rate-limit counts.

    A test marked ``own_app`` (it adds routes, hooks or jobs to the app) gets a new app.
    """
    url = database_provider.url_for(backend)
    if url is None:
        missing_service(database_provider.missing_reason(backend))
    marker = request.node.get_closest_marker("config")
    overrides = dict(marker.kwargs) if marker else {}
    own = request.node.get_closest_marker("own_app") is not None
    key = (backend, repr(sorted(overrides.items())))
    application = None if own else applications.get(key)
    if application is None:
        application = build_app(url, smtp_server, overrides)
        if not own:
            applications[key] = application
    settings = dict(application.config)
    application.config["MAIL_OUTBOX"] = str(tmp_path / "outbox")
    application.config["MEDIA_ROOT"] = str(tmp_path / "media")
    application.config["CATALOG_IMPORTS_FOLDER"] = str(tmp_path / "catalog-imports")
    # What a new app had: rate-limit counts of its own, and its Celery app the current one.
    limiter.init_app(application)
    celery_app = application.extensions["celery"]
    celery_app.set_current()
    celery_app.set_default()
    forget_remembered_rows(application)
    written = WrittenTables()
    try:
        with application.app_context():
            try:
                with written.watch():
                    database_provider.ensure_migrated(backend, application)
                    yield application
            finally:
                db.session.remove()
                forget_remembered_rows(application)  # a batch's thread must not write later
                database_provider.empty(backend, db.engine, written.names)
                if CHECK_RESETS:
                    left = database_provider.tables_with_rows(db.engine)
                    database_provider.empty(backend, db.engine)
                    assert not left, f"rows left in {left} (written: {written.names})"
                if own:
                    db.engine.dispose()
    finally:
        application.config.clear()
        application.config.update(settings)


def forget_remembered_rows(application: Flask) -> None:
    """Empty what the app remembers of rows between requests: the rows are gone."""
    analytics = application.extensions.get("funnel.analytics")
    if analytics:
        analytics["api_visits"].clear()
    # product views of earlier tests, not yet written
    views = application.extensions.get("funnel.analytics.batches")
    if views:
        views.take()
    # the traffic counts of earlier tests' requests, not yet written
    request_minutes = application.extensions.get("funnel.request_minutes")
    if request_minutes:
        request_minutes.take()
    # pages kept for unknown visitors: they show earlier tests' rows
    kept_pages = application.extensions.get(PAGE_CACHE)
    if kept_pages:
        kept_pages.clear()
        kept_pages.now = time.monotonic


def build_app(url: str, smtp_server: SmtpServer, overrides: dict[str, Any]) -> Flask:
    settings: dict[str, Any] = {
        "TESTING": True,
        "FUNNEL_ENV": "test",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        # One process: counts in memory, a new store for each test (the ``app`` fixture).
        "RATELIMIT_STORAGE_URI": "memory://",
        # Every test client calls from one address, so many shoppers share it: no share limit
        # on reservations unless a test asks for one (tests/checkout/test_inventory_denial.py).
        "RESERVATION_MAX_SHARE": 100,
        # Bank transfer is offered only with a bank account: test shops have one, unless a
        # test says ``@pytest.mark.config(BANK_ACCOUNT="")``.
        "BANK_ACCOUNT": TEST_BANK_ACCOUNT,
        # Product views written in their request, so that a test reads them at once; the
        # batches have tests of their own (tests/analytics/test_batches.py).
        "ANALYTICS_BATCH_MILLISECONDS": 0,
        # Every page rendered afresh, so that a test sees its own change at once; the kept
        # pages have tests of their own (tests/core/test_page_cache.py).
        "PAGE_CACHE_SECONDS": 0,
        "MAIL_HOST": smtp_server.host,
        "MAIL_PORT": smtp_server.port,
        "SERVER_NAME": None,
        **overrides,
    }
    application = create_app(settings)
    application.test_client_class = IsolatedClient
    return application


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in an application context of its own.

    The ``app`` fixture holds a context open for the test's own setup and assertions; without
    this, requests would reuse it and share ``g`` and the database session with the test and
    with each other, which real requests never do.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        outer = db.session() if has_app_context() else None
        if outer is not None:
            outer.commit()  # end the test's read transaction: its snapshot would hide the request
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if outer is not None:
            outer.commit()  # and expire what the test holds, so it reads what the request wrote
        return response


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def sql_statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app runs while the test runs (to prove a constant query count)."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA)", statement, re.I):
            return
        # the traffic counts a process writes once a minute, whatever the request (US-72)
        if "request_minutes" not in statement:
            statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    yield statements
    sa.event.remove(db.engine, "before_cursor_execute", record)


# --- accounts: users, and clients signed in as them ------------------------------------------


@pytest.fixture
def customer(app: Flask) -> Any:
    """A customer whose password is ``tests.factories.accounts.KNOWN_PASSWORD``."""
    from tests.factories.accounts import UserFactory

    return UserFactory(email="customer@example.com")


@pytest.fixture
def staff_user(app: Flask) -> Any:
    from funnel.accounts.models import Role
    from tests.factories.accounts import UserFactory

    return UserFactory(email="staff@example.com", role=Role.STAFF, is_email_verified=True)


@pytest.fixture
def admin_user(app: Flask) -> Any:
    from funnel.accounts.models import Role
    from tests.factories.accounts import UserFactory

    return UserFactory(email="admin@example.com", role=Role.ADMIN, is_email_verified=True)


@pytest.fixture
def signed_in(app: Flask) -> Any:
    """``signed_in(user, client=None)``: a test client with a live server-side session for
    ``user`` (no password check, so no hashing: fast). A new client unless one is given."""
    from funnel.accounts import services
    from funnel.accounts.access import SESSION_TOKEN_KEY

    def sign_in(user: Any, client: FlaskClient | None = None) -> FlaskClient:
        client = client or app.test_client()
        token = services.start_session(user.id, user_agent="pytest", ip="127.0.0.1")
        with client.session_transaction() as flask_session:
            flask_session.clear()
            flask_session["_user_id"] = str(user.id)
            flask_session["_fresh"] = True
            flask_session[SESSION_TOKEN_KEY] = token
        return client

    return sign_in
