"""Apache httpd with the shipped site file (deploy/apache/funnel.conf) in front of gunicorn.

``rendered_site(...)`` is the shipped file with only the line under each ``# EDIT`` comment
changed (this test's ports, certificate, folders and gunicorn servers), as an operator would
change them; a placeholder the test does not know fails the test. ``main_config`` is what
Debian's /etc/apache2/apache2.conf holds around a site, with every path in the test's folder.
"""

from __future__ import annotations

import grp
import os
import pwd
from pathlib import Path

from tests.deploy.stack import ROOT, server_binary

SITE = ROOT / "deploy" / "apache" / "funnel.conf"
MODULES = Path("/usr/lib/apache2/modules")
# What the site uses: `a2enmod ssl rewrite proxy proxy_http proxy_balancer lbmethod_bybusyness
# headers deflate unique_id`, their dependencies, and what Debian enables by default.
MODULE_NAMES = (
    "mpm_event",
    "authz_core",
    "mime",
    "alias",
    "filter",
    "deflate",
    "headers",
    "rewrite",
    "unique_id",
    "socache_shmcb",
    "ssl",
    "proxy",
    "proxy_http",
    "slotmem_shm",
    "proxy_balancer",
    "lbmethod_bybusyness",
)


def apache_binary() -> str:
    return server_binary("apache2", "Apache httpd")


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
    """The shipped site with this test's values under its ``# EDIT`` comments, and there only."""
    upstreams = iter(backends)
    rendered: list[str] = []
    is_placeholder = False
    for line in SITE.read_text().splitlines():
        stripped = line.strip()
        if not is_placeholder:
            is_placeholder = stripped.startswith("# EDIT")
            rendered.append(line)
            continue
        is_placeholder = False
        indent = line[: len(line) - len(line.lstrip())]
        if stripped == "<VirtualHost *:80>":
            stripped = f"<VirtualHost 127.0.0.1:{http_port}>"
        elif stripped == "<VirtualHost *:443>":
            stripped = f"<VirtualHost 127.0.0.1:{https_port}>"
        elif stripped.startswith("ServerName "):
            pass  # the shop's public host name stays: the client sends it
        elif stripped.startswith("SSLCertificateFile "):
            stripped = f"SSLCertificateFile {certificate}"
        elif stripped.startswith("SSLCertificateKeyFile "):
            stripped = f"SSLCertificateKeyFile {key}"
        elif stripped.startswith("Alias /static/ "):
            stripped = f"Alias /static/ {static}/"
        elif stripped.startswith("<Directory ") and "/static/" in stripped:
            stripped = f"<Directory {static}/>"
        elif stripped.startswith("Alias /media/ "):
            stripped = f"Alias /media/ {media}/"
        elif stripped.startswith("<Directory ") and "/media/" in stripped:
            stripped = f"<Directory {media}/>"
        elif stripped.startswith("BalancerMember "):
            options = stripped.split(" ", 2)[2]
            stripped = f'BalancerMember "http://127.0.0.1:{next(upstreams)}" {options}'
        else:
            raise AssertionError(f"a placeholder this test does not fill: {stripped}")
        rendered.append(indent + stripped)
    assert next(upstreams, None) is None, "the site names fewer gunicorn servers than the test runs"
    return "\n".join(rendered) + "\n"


def main_config(prefix: Path, site: Path, ports: list[int]) -> str:
    """Debian's apache2.conf around ``site``, with its run-time files under ``prefix``."""
    # Started by root, Apache runs its children as another user (it refuses root): nobody,
    # who reads the static build and the images from ``prefix``, a folder open to all.
    user = ""
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        user = f"User nobody\nGroup {grp.getgrgid(nobody.pw_gid).gr_name}\n"
    modules = "\n".join(
        f"LoadModule {name}_module {MODULES / f'mod_{name}.so'}" for name in MODULE_NAMES
    )
    listens = "\n".join(f"Listen 127.0.0.1:{port}" for port in ports)
    return f"""ServerRoot {prefix}
DefaultRuntimeDir {prefix}
PidFile {prefix / "apache2.pid"}
ErrorLog {prefix / "error.log"}
LogLevel warn
ServerName localhost
{modules}
{user}TypesConfig /etc/mime.types
LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
CustomLog {prefix / "access.log"} common
{listens}
Include {site}
"""
