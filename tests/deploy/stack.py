"""nginx with the shipped site file in front of two gunicorn servers of one production shop.

``rendered_site(...)`` is ``deploy/nginx/funnel.conf`` with only its ``# EDIT`` lines changed
(this test's ports, certificate and folders), as an operator would change them; a placeholder
the test does not know fails the test, so the file and the test cannot drift apart. nginx runs
in the foreground with its own prefix (temp folders, pid, logs), so it needs no system
folder. ``Client`` speaks HTTPS to nginx from 127.0.0.2, with the shop's public host name, as
a shopper's browser would from another address.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import pwd
import re
import shutil
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa

import funnel
from funnel.accounts.models import UserSession
from tests.conftest import missing_service

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "funnel.conf"
PROXY_INCLUDE = ROOT / "deploy" / "nginx" / "funnel-proxy.conf"
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
STATIC = Path(funnel.__file__).resolve().parent / "static"
HOST = "shop.example.com"
CLIENT_ADDRESS = "127.0.0.2"
START_TIMEOUT_SECONDS = 60


def server_binary(name: str, what: str) -> str:
    """A web server from Debian (``make deploy-tools``): missing, skip locally and fail under CI."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        missing_service(f"{what} is not installed (make deploy-tools)")
    assert path is not None
    return path


def nginx_binary() -> str:
    return server_binary("nginx", "nginx")


def longest_valid_search() -> str:
    """The longest search the storefront offers: a 200-character query of 2-byte characters and
    8 options of 20 values of 100 characters (past 16 kB; gunicorn's own limit is 8 kB)."""
    options = [
        (f"option{name}", f"{value:03d}" + "x" * 97) for name in range(8) for value in range(20)
    ]
    return "/search?" + urlencode([("q", "é" * 200), *options])


def rendered_site(
    *,
    backends: list[int],
    http_port: int,
    https_port: int,
    certificate: Path,
    key: Path,
    static: Path,
    media: Path,
) -> str:
    """The shipped site with this test's values on its ``# EDIT`` lines, and those alone."""
    upstreams = iter(backends)
    rendered = []
    for line in SITE.read_text().splitlines():
        if "# EDIT" not in line or line.lstrip().startswith("#"):
            rendered.append(line)
            continue
        code = line.split("# EDIT")[0].rstrip()
        stripped = code.strip()
        indent = code[: len(code) - len(code.lstrip())]
        if stripped.startswith("server 127.0.0.1:"):
            options = stripped.split(" ", 2)[2]
            stripped = f"server 127.0.0.1:{next(upstreams)} {options}"
        elif stripped.startswith("listen [::]"):
            continue  # the test listens on loopback only
        elif stripped == "listen 80;":
            stripped = f"listen 127.0.0.1:{http_port};"
        elif stripped == "listen 443 ssl http2;":
            stripped = f"listen 127.0.0.1:{https_port} ssl http2;"
        elif stripped.startswith("server_name "):
            pass  # the shop's public host name stays: the client sends it
        elif stripped.startswith("ssl_certificate "):
            stripped = f"ssl_certificate {certificate};"
        elif stripped.startswith("ssl_certificate_key "):
            stripped = f"ssl_certificate_key {key};"
        elif stripped.startswith("alias ") and "/static/" in stripped:
            stripped = f"alias {static}/;"
        elif stripped.startswith("alias ") and "/media/" in stripped:
            stripped = f"alias {media}/;"
        elif stripped.startswith("include ") and "funnel-proxy.conf" in stripped:
            stripped = f"include {PROXY_INCLUDE};"
        else:
            raise AssertionError(f"a placeholder this test does not fill: {line.strip()}")
        rendered.append(indent + stripped)
    assert next(upstreams, None) is None, "the site names fewer gunicorn servers than the test runs"
    return "\n".join(rendered) + "\n"


def main_config(prefix: Path, site: Path) -> str:
    """What /etc/nginx/nginx.conf holds around a site, with every path under ``prefix``."""
    # Started by root, nginx would run its workers as nobody, who cannot read the test's
    # folders: they run as the user running the test instead.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {name}_temp_path {prefix / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}daemon off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {prefix / "access.log"};
{temp}
    include {site};
}}
"""


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    certificate, key = folder / "shop.crt", folder / "shop.key"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", f"/CN={HOST}", "-keyout", str(key), "-out", str(certificate)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return certificate, key


def start_gunicorn(
    environment: dict[str, str], port: int, log: Path, workers: int = 1
) -> subprocess.Popen[bytes]:
    """One gunicorn server with the shipped deploy/gunicorn.conf.py, one worker by default."""
    settings = {
        **environment,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
    }
    with log.open("wb") as output:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG)),
                *("--no-control-socket", "funnel:create_app()"),
            ],
            env=settings,
            cwd=environment["FUNNEL_INSTANCE_PATH"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def start_nginx(prefix: Path, site_text: str) -> tuple[subprocess.Popen[bytes], Path]:
    """nginx in the foreground with its own prefix, serving ``site_text`` (a rendered copy of
    the shipped site): the process, and its error log."""
    site = prefix / "funnel.conf"
    site.write_text(site_text)
    (prefix / "nginx.conf").write_text(main_config(prefix, site))
    error_log = prefix / "error.log"
    with error_log.open("ab") as output:
        process = subprocess.Popen(
            [
                *(nginx_binary(), "-p", str(prefix), "-c", str(prefix / "nginx.conf")),
                *("-e", str(error_log)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=output,
        )
    return process, error_log


def wait_for(
    what: str,
    answers: Any,
    process: subprocess.Popen[bytes],
    log: Path,
    seconds: float = START_TIMEOUT_SECONDS,
) -> None:
    """Poll ``answers()`` until it is true; a process that exits or never answers fails."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited:\n{log.read_text(errors='replace')}")
        try:
            if answers():
                return
        except OSError:
            pass
        time.sleep(0.1)  # polling a starting server
    raise RuntimeError(f"{what} did not answer:\n{log.read_text(errors='replace')}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def request_lines(log: Path) -> list[dict[str, Any]]:
    """The shop's ``funnel.request`` log lines (JSON in production) in a gunicorn log."""
    lines = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("logger") == "funnel.request":
                lines.append(entry)
    return lines


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Client:
    """HTTPS to nginx from another address, as a shopper; keeps the shop's cookies."""

    port: int
    scheme: str = "https"
    cookies: dict[str, str] = field(default_factory=dict)
    address: str = CLIENT_ADDRESS

    def connection(self) -> http.client.HTTPConnection:
        source = (self.address, 0)
        if self.scheme == "http":
            return http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=60, source_address=source
            )
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
        return http.client.HTTPSConnection(
            "127.0.0.1", self.port, timeout=60, source_address=source, context=context
        )

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Answer:
        sent = {"Host": HOST, **(headers or {})}
        data = body
        if isinstance(body, dict | list):
            data = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        connection = self.connection()
        try:
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        if response.headers.get("Content-Encoding") == "gzip":
            content = gzip.decompress(content)
        return Answer(response.status, response.headers, content)


_CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
FORGED_ADDRESS = "198.51.100.7"


def sign_in_claiming_another_address(client: Client, email: str, password: str) -> Answer:
    """Sign in through the proxy from ``CLIENT_ADDRESS``, the request claiming in its own
    ``X-Forwarded-For`` to come from ``FORGED_ADDRESS``."""
    form = client.call("GET", "/account/sign-in")
    assert form.status == 200
    found = _CSRF_FIELD.search(form.body.decode())
    assert found is not None
    fields = {"csrf_token": found.group(1), "email": email, "password": password}
    return client.call(
        "POST",
        "/account/sign-in",
        urlencode(fields).encode(),
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"https://{HOST}/account/sign-in",
            "X-Forwarded-For": FORGED_ADDRESS,
        },
    )


def session_addresses(database_url: str) -> list[str]:
    """The client address each server-side session recorded."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.scalars(sa.select(UserSession.ip)).all())
    finally:
        engine.dispose()
