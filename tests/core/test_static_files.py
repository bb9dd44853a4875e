"""US-66: static files under fingerprinted names, cached a year, compressed."""

from __future__ import annotations

import gzip
import hashlib
import json
import posixpath
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from funnel import create_app
from funnel.core import static_files
from funnel.core.static_files import IMMUTABLE, PLAIN, build_manifest
from tests.factories.catalog import CategoryFactory, ProductFactory
from tests.support.static import STATIC, static_path

pytestmark = pytest.mark.story("US-66")

LOGO = b"<svg xmlns='http://www.w3.org/2000/svg'><rect width='1' height='1'/></svg>\n"
STYLESHEET = (
    b".logo { background: url('../img/logo.svg') no-repeat; }\n"
    b".icon { background: url(data:image/png;base64,AAAA); }\n"
    b".far { background: url(https://example.com/x.png); }\n"
    b'.gone { background: url("../img/missing.svg#part"); }\n'
) + b"/* padding so that gzip pays */\n" * 40
_STATIC_LINK = re.compile(r'(?:src|href)="(/static/[^"]+)"')
_TEMPLATE_NAME = re.compile(r"static_url\('([^']+)'\)")


def _folder(root: Path, logo: bytes = LOGO) -> Path:
    (root / "img").mkdir(parents=True, exist_ok=True)
    (root / "css").mkdir(exist_ok=True)
    (root / "img" / "logo.svg").write_bytes(logo)
    (root / "css" / "site.css").write_bytes(STYLESHEET)
    return root


def _app(tmp_path: Path, folder: Path, environment: str = "production") -> Flask:
    """A shop whose static folder is ``folder`` (no database: static files need none)."""
    app = create_app(
        {
            "TESTING": True,
            "FUNNEL_ENV": "test",
            "SECRET_KEY": "static",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'static.db'}",
        }
    )
    app.static_folder = str(folder)
    static_files.init_app(app)
    app.config["FUNNEL_ENV"] = environment
    return app


def test_a_fingerprint_is_the_start_of_the_contents_sha256(tmp_path: Path) -> None:
    manifest = build_manifest(_folder(tmp_path))

    digest = hashlib.sha256(LOGO).hexdigest()
    assert manifest.fingerprinted("img/logo.svg") == f"img/logo.{digest[:12]}.svg"
    assert build_manifest(tmp_path).names() == manifest.names()
    with pytest.raises(static_files.UnknownStaticFile):
        manifest.fingerprinted("img/nothing.svg")


def test_a_changed_image_renames_itself_and_the_stylesheet_that_uses_it(tmp_path: Path) -> None:
    before = build_manifest(_folder(tmp_path))

    after = build_manifest(_folder(tmp_path, logo=LOGO.replace(b"'1'", b"'2'")))

    assert after.fingerprinted("img/logo.svg") != before.fingerprinted("img/logo.svg")
    assert after.fingerprinted("css/site.css") != before.fingerprinted("css/site.css")
    logo = posixpath.basename(after.fingerprinted("img/logo.svg"))
    stylesheet = after.assets["css/site.css"].content()
    assert stylesheet == STYLESHEET.replace(b"../img/logo.svg", f"../img/{logo}".encode())
    # data:, absolute and unknown references are left as they were
    assert b"url(data:image/png;base64,AAAA)" in stylesheet
    assert b"url(https://example.com/x.png)" in stylesheet
    assert b'url("../img/missing.svg#part")' in stylesheet


@pytest.mark.backends("sqlite")
def test_the_shops_stylesheet_links_its_placeholder_image_by_fingerprint(
    client: FlaskClient,
) -> None:
    stylesheet = client.get(static_path("css/funnel.css")).get_data()

    image = posixpath.basename(static_path("img/no-photo.svg"))
    assert f'url("../img/{image}")'.encode() in stylesheet
    assert b"no-photo.svg" not in stylesheet
    # as a browser resolves the reference against the stylesheet's URL
    served = client.get(
        posixpath.normpath(
            posixpath.join(posixpath.dirname(static_path("css/funnel.css")), f"../img/{image}")
        )
    )
    assert (served.status_code, served.headers["Cache-Control"]) == (200, IMMUTABLE)


@pytest.mark.backends("sqlite")
def test_a_fingerprinted_name_is_kept_a_year_and_sent_compressed_to_who_accepts_it(
    client: FlaskClient,
) -> None:
    name = static_path("vendor/htmx/htmx.min.js")
    original = (STATIC / "vendor" / "htmx" / "htmx.min.js").read_bytes()

    plain = client.get(name)
    packed = client.get(name, headers={"Accept-Encoding": "br, gzip;q=0.8"})
    again = client.get(
        name, headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]}
    )

    assert plain.status_code == 200
    assert plain.get_data() == original
    assert plain.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Accept-Encoding" in plain.vary
    assert plain.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "Content-Encoding" not in plain.headers
    assert packed.status_code == 200
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Cache-Control"] == IMMUTABLE
    assert "Accept-Encoding" in packed.vary
    assert gzip.decompress(packed.get_data()) == original
    assert int(packed.headers["Content-Length"]) == len(packed.get_data()) < len(original) // 3
    assert packed.headers["ETag"] != plain.headers["ETag"]
    assert (again.status_code, again.get_data()) == (304, b"")


@pytest.mark.backends("sqlite")
def test_a_plain_name_is_kept_a_day_and_an_unknown_name_is_not_found(client: FlaskClient) -> None:
    plain = client.get("/static/css/funnel.css", headers={"Accept-Encoding": "gzip"})
    missing = client.get("/static/css/no-such-file.css")
    outside = client.get("/static/../app.py")

    assert plain.status_code == 200
    assert plain.headers["Cache-Control"] == PLAIN == "public, max-age=86400"
    assert gzip.decompress(plain.get_data()) == (STATIC / "css" / "funnel.css").read_bytes()
    assert missing.status_code == 404
    assert outside.status_code == 404


def test_an_old_fingerprint_is_not_found_and_never_kept(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "static")
    app = _app(tmp_path, folder)
    client = app.test_client()
    with app.test_request_context():
        old = app.jinja_env.globals["static_url"]("img/logo.svg")
    assert client.get(old).status_code == 200

    # when the file changes under a running shop (a deploy without a restart)
    (folder / "img" / "logo.svg").write_bytes(LOGO.replace(b"'1'", b"'3'"))
    stale = client.get(old)
    made_up = client.get(re.sub(r"\.[0-9a-f]{12}\.", ".0123456789ab.", old))
    plain = client.get("/static/img/logo.svg")

    # then the old name is not found (not kept a year with other content), and the plain
    # name serves the new content
    assert stale.status_code == 404
    assert "immutable" not in stale.headers.get("Cache-Control", "")
    assert made_up.status_code == 404
    assert "immutable" not in made_up.headers.get("Cache-Control", "")
    assert plain.get_data() == LOGO.replace(b"'1'", b"'3'")


@pytest.mark.parametrize(("environment", "debug"), [("development", False), ("production", True)])
def test_in_development_a_page_links_the_files_as_they_are_now(
    tmp_path: Path, environment: str, debug: bool
) -> None:
    folder = _folder(tmp_path / "static")
    app = _app(tmp_path, folder, environment)
    app.debug = debug
    static_url = app.jinja_env.globals["static_url"]
    with app.test_request_context():
        before = static_url("img/logo.svg")

    (folder / "img" / "logo.svg").write_bytes(LOGO.replace(b"'1'", b"'4'"))
    with app.test_request_context():
        after = static_url("img/logo.svg")

    assert before != after
    answer = app.test_client().get(after)
    assert (answer.status_code, answer.get_data()) == (200, LOGO.replace(b"'1'", b"'4'"))


def test_in_development_a_page_with_several_links_looks_at_the_folder_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path / "static")
    app = _app(tmp_path, folder, "development")
    static_url = app.jinja_env.globals["static_url"]
    walks: list[Path] = []
    walk = static_files._signature
    monkeypatch.setattr(static_files, "_signature", lambda path: walks.append(path) or walk(path))

    with app.test_request_context():
        links = [static_url("img/logo.svg"), static_url("css/site.css"), static_url("img/logo.svg")]
    with app.test_request_context():
        static_url("img/logo.svg")

    assert links[0] == links[2]
    assert walks == [folder, folder]


def test_the_build_writes_both_names_gzip_twins_a_manifest_and_keeps_the_last_build(
    tmp_path: Path,
) -> None:
    app = _app(tmp_path, _folder(tmp_path / "static"))
    output = tmp_path / "build"
    (output / "css").mkdir(parents=True)
    # the previous build's stylesheet, and one of the build before it
    (output / "manifest.json").write_text('{"css/site.css": "css/site.aaaaaaaaaaaa.css"}')
    (output / "css" / "site.aaaaaaaaaaaa.css").write_text("the previous build's")
    (output / "css" / "site.aaaaaaaaaaaa.css.gz").write_bytes(gzip.compress(b"the previous"))
    (output / "css" / "site.0123456789ab.css").write_text("left by an older build")

    result = app.test_cli_runner().invoke(args=["assets", "build", str(output)])

    assert result.exit_code == 0, result.output
    manifest = build_manifest(tmp_path / "static")
    stylesheet = manifest.fingerprinted("css/site.css")
    logo = manifest.fingerprinted("img/logo.svg")
    assert json.loads((output / "manifest.json").read_text()) == {
        "css/site.css": stylesheet,
        "img/logo.svg": logo,
    }
    served = manifest.assets["css/site.css"].content()
    assert (output / stylesheet).read_bytes() == served
    assert gzip.decompress((output / f"{stylesheet}.gz").read_bytes()) == served
    assert (output / "css" / "site.css").read_bytes() == STYLESHEET
    assert gzip.decompress((output / "css" / "site.css.gz").read_bytes()) == STYLESHEET
    assert (output / logo).read_bytes() == LOGO
    # the logo is too small for gzip to pay: no twin, nginx sends it as it is
    assert sorted(path.relative_to(output).as_posix() for path in output.rglob("*.*")) == sorted(
        [
            "manifest.json",
            stylesheet,
            f"{stylesheet}.gz",
            "css/site.css",
            "css/site.css.gz",
            logo,
            "img/logo.svg",
            # kept for pages of servers not restarted yet; the older one is gone
            "css/site.aaaaaaaaaaaa.css",
            "css/site.aaaaaaaaaaaa.css.gz",
        ]
    )
    assert result.output == f"2 static files, 7 files written to {output}\n"


def test_the_build_refuses_a_folder_it_did_not_write(tmp_path: Path) -> None:
    app = _app(tmp_path, _folder(tmp_path / "static"))
    output = tmp_path / "elsewhere"
    output.mkdir()
    (output / "precious.txt").write_text("mine")

    result = app.test_cli_runner().invoke(args=["assets", "build", str(output)])

    assert result.exit_code == 1
    assert "holds files and no manifest.json: not a static build" in result.output
    assert [path.name for path in output.iterdir()] == ["precious.txt"]


def test_every_template_names_a_static_file_that_exists() -> None:
    templates = Path(STATIC).parent / "templates"
    sources = {path: path.read_text() for path in templates.rglob("*.html")}
    named = {name for text in sources.values() for name in _TEMPLATE_NAME.findall(text)}
    manifest = build_manifest(STATIC)

    assert [path for path, text in sources.items() if "url_for('static'" in text] == []
    assert sorted(name for name in named if name not in manifest.assets) == []
    assert len(named) == 11


@pytest.mark.backends("sqlite")
def test_every_static_link_of_the_main_pages_is_served_for_a_year(
    client: FlaskClient, admin_user: Any, signed_in: Any
) -> None:
    category = CategoryFactory(name="Mugs")
    ProductFactory(title="Blue mug", category_id=category.id)
    staff = signed_in(admin_user)
    pages = {
        path: client.get(path)
        for path in (
            "/",
            "/c/mugs",
            "/p/blue-mug",
            "/search?q=mug",
            "/cart",
            "/account/sign-in",
            "/api/docs",
        )
    }
    pages["/staff/reports/sales"] = staff.get("/staff/reports/sales")

    links: set[str] = set()
    for path, page in pages.items():
        assert page.status_code == 200, path
        links |= set(_STATIC_LINK.findall(page.get_data(as_text=True)))
    answers = {link: client.get(link) for link in sorted(links)}

    assert {
        link: (answer.status_code, answer.headers["Cache-Control"])
        for link, answer in answers.items()
    } == dict.fromkeys(links, (200, IMMUTABLE))
    assert sorted(links) == sorted(
        static_path(name)
        for name in (
            "favicon.svg",
            "vendor/pico/pico.min.css",
            "css/funnel.css",
            "vendor/htmx/htmx.min.js",
            "vendor/swagger-ui/swagger-ui.css",
            "vendor/swagger-ui/swagger-ui-bundle.js",
            "js/api-docs.js",
            "vendor/chartjs/chart.umd.min.js",
            "js/report-charts.js",
        )
    )
    for answer in answers.values():
        answer.close()
