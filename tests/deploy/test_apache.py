"""US-48: the shipped Apache site (mod_proxy) in front of two gunicorn servers of one shop.

Debian's apache2 (``make deploy-tools``) runs ``deploy/apache/funnel.conf`` with only the lines
under its ``# EDIT`` comments filled in; two gunicorn servers run ``deploy/gunicorn.conf.py``
with a production environment on SQLite holding the demo catalogue. A shopper at another
address (127.0.0.2) talks HTTPS to Apache alone. Apache missing skips locally and fails under
``CI=true``.
"""

from __future__ import annotations

import http.client
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from funnel import create_app
from funnel.extensions import db
from tests.deploy import apache, stack
from tests.factories.accounts import KNOWN_PASSWORD, UserFactory
from tests.support.live_server import free_port, run_flask
from tests.support.production import production_environment

pytestmark = pytest.mark.story("US-48")

METRICS_TOKEN = "a-metrics-token-for-the-apache-test"
CUSTOMER = "apache-customer@example.com"


@dataclass(frozen=True)
class Site:
    https_port: int
    http_port: int
    backends: list[int]
    logs: list[Path]
    database_url: str
    media: Path

    def client(self) -> stack.Client:
        return stack.Client(self.https_port)

    def request_ids(self) -> list[set[str]]:
        """The request ids each gunicorn server logged, server by server."""
        return [{line["request_id"] for line in stack.request_lines(log)} for log in self.logs]


def _environment(instance: Path, database_url: str) -> dict[str, str]:
    """Production as an operator sets it behind one Apache, with jobs run in-process."""
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("FUNNEL_")}
    settings = production_environment(instance)
    del settings["FUNNEL_CELERY_BROKER_URL"]
    settings |= {
        "FUNNEL_DATABASE_URL": database_url,
        "FUNNEL_TRUSTED_PROXIES": "1",
        "FUNNEL_JOBS_IN_PROCESS": "true",
        "FUNNEL_METRICS_TOKEN": METRICS_TOKEN,
        "FUNNEL_SECRET_KEY": secrets.token_urlsafe(48),
    }
    return inherited | settings


def _customer(database_url: str) -> None:
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "seed", "SQLALCHEMY_DATABASE_URI": database_url}
    )
    with app.app_context():
        UserFactory(email=CUSTOMER, is_email_verified=True)
        db.engine.dispose()


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    finally:
        connection.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    binary = apache.apache_binary()
    folder = tmp_path_factory.mktemp("apache")
    instance = folder / "instance"
    instance.mkdir()
    database_url = f"sqlite:///{instance / 'funnel.db'}"
    environment = _environment(instance, database_url)
    processes: list[subprocess.Popen[bytes]] = []
    prefix: Path | None = None
    try:
        run_flask(environment, "db", "upgrade", "heads")
        run_flask(environment, "demo", "--products", "6")
        _customer(database_url)
        backends = [free_port(), free_port()]
        logs = [folder / f"gunicorn-{port}.log" for port in backends]
        for port, log in zip(backends, logs, strict=True):
            processes.append(stack.start_gunicorn(environment, port, log))
        for port, log, process in zip(backends, logs, processes, strict=True):
            stack.wait_for("gunicorn", lambda port=port: _answers(port), process, log)
        # Apache's children run as nobody: its folder, the static build and the images in it
        # are open to all, as /srv/funnel is on a server.
        prefix = Path(tempfile.mkdtemp(prefix="funnel-apache-"))
        prefix.chmod(0o755)
        static = prefix / "static"
        run_flask(environment, "assets", "build", str(static))
        media = prefix / "media"
        (media / "products").mkdir(parents=True)
        certificate, key = stack.self_signed_certificate(folder)
        http_port, https_port = free_port(), free_port()
        rendered = prefix / "funnel.conf"
        rendered.write_text(
            apache.rendered_site(
                backends=backends,
                http_port=http_port,
                https_port=https_port,
                certificate=certificate,
                key=key,
                static=static,
                media=media,
            )
        )
        main = prefix / "apache2.conf"
        main.write_text(apache.main_config(prefix, rendered, [http_port, https_port]))
        check = subprocess.run(
            [binary, "-f", str(main), "-t"], capture_output=True, text=True, check=False
        )
        assert check.returncode == 0, check.stdout + check.stderr
        error_log = prefix / "error.log"
        with (prefix / "console.log").open("ab") as output:
            processes.append(
                subprocess.Popen(
                    [binary, "-f", str(main), "-DFOREGROUND"], stdout=output, stderr=output
                )
            )
        redirect = stack.Client(http_port, scheme="http")
        stack.wait_for(
            "Apache",
            lambda: redirect.call("GET", "/").status == 301,
            processes[-1],
            error_log if error_log.exists() else prefix / "console.log",
        )
        yield Site(https_port, http_port, backends, logs, database_url, media)
    finally:
        for process in reversed(processes):
            stack.stop(process)
        if prefix is not None:
            shutil.rmtree(prefix, ignore_errors=True)


def test_static_files_and_images_come_from_apache_with_cache_headers(site: Site) -> None:
    client = site.client()
    (site.media / "products" / "cup.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    served_before = site.request_ids()

    style = client.call("GET", "/static/css/funnel.css", headers={"Accept-Encoding": "gzip"})
    image = client.call("GET", "/media/products/cup.svg")
    missing = client.call("GET", "/static/css/no-such-file.css")

    assert style.status == 200
    assert style.body == (stack.STATIC / "css" / "funnel.css").read_bytes()
    assert style.headers["Cache-Control"] == "public, max-age=86400"
    assert style.headers["Content-Encoding"] == "gzip"
    assert style.headers["Content-Type"] == "text/css"
    assert image.status == 200
    assert image.body == b"<svg xmlns='http://www.w3.org/2000/svg'/>"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert missing.status == 404
    # no gunicorn server saw any of them
    assert site.request_ids() == served_before


def test_plain_http_is_sent_to_https(site: Site) -> None:
    answer = stack.Client(site.http_port, scheme="http").call("GET", "/p/anything?x=1")

    assert answer.status == 301
    assert answer.headers["Location"] == f"https://{stack.HOST}/p/anything?x=1"


def test_pages_are_served_by_both_servers_with_apache_s_request_id(site: Site) -> None:
    client = site.client()

    answers = [client.call("GET", "/", headers={"Accept-Encoding": "gzip"}) for _ in range(12)]

    assert {answer.status for answer in answers} == {200}
    assert b"Funnel" in answers[0].body
    assert answers[0].headers["Content-Encoding"] == "gzip"
    # every request id Apache gave out was logged by one server, and each served some
    given = {answer.headers["X-Request-ID"] for answer in answers}
    logged = site.request_ids()
    assert len(given) == 12
    assert all(given & ids for ids in logged)
    assert given <= set().union(*logged)


def test_the_shop_sees_the_clients_address_not_apaches(site: Site) -> None:
    # when the customer signs in from 127.0.0.2, claiming another address in X-Forwarded-For
    signed_in = stack.sign_in_claiming_another_address(site.client(), CUSTOMER, KNOWN_PASSWORD)

    # then the session records the address the proxy saw, not its own nor the claimed one
    assert (signed_in.status, signed_in.headers["Location"]) == (302, "/account")
    assert stack.session_addresses(site.database_url) == [stack.CLIENT_ADDRESS]


def test_metrics_are_never_served_through_apache(site: Site) -> None:
    bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}

    public = site.client().call("GET", "/metrics", headers=bearer)

    assert public.status == 404
    assert b"funnel_http_requests_total" not in public.body


def test_the_longest_valid_search_passes_apache_and_a_longer_url_is_refused(site: Site) -> None:
    client = site.client()
    longest = stack.longest_valid_search()

    found = client.call("GET", longest)
    refused = client.call("GET", longest + "&more=" + "y" * 32 * 1024)

    assert len(longest) > 16 * 1024
    assert found.status == 200
    assert refused.status == 414
