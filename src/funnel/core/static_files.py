"""Static files under fingerprinted names: a year of caching that no change can outlive.

Each file of the static folder gets a second name carrying the first 12 hex digits of the
SHA-256 of what that name serves (``css/funnel.css`` -> ``css/funnel.3f9a1c2b0d4e.css``).
Templates link the fingerprinted name (``static_url('css/funnel.css')``), so browsers keep it
a year without asking again (``immutable``): new content gets a new name, and a page links
the new name as soon as a restarted shop renders it. Relative ``url(...)`` references inside
stylesheets are rewritten to fingerprinted names too, and a stylesheet's fingerprint covers
the rewritten text, so a changed image renames the stylesheets that use it.

Flask serves both names, gzip-compressed when the client accepts it: fingerprinted ones for a
year, plain ones (for links from outside the shop) for a day. ``flask --app funnel assets
build`` writes the same files, their ``.gz`` twins and ``manifest.json`` into a folder that
nginx serves by itself (deploy/nginx/funnel.conf). A fingerprint that is not the current one
answers 404, never content other than the one it was computed from.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import mimetypes
import os
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, Response, current_app, has_request_context, request, url_for

FINGERPRINT_LENGTH = 12
IMMUTABLE = "public, max-age=31536000, immutable"
PLAIN = "public, max-age=86400"
MANIFEST_NAME = "manifest.json"
# Text compresses (a third of its size or less); images and fonts are compressed already.
COMPRESSIBLE_SUFFIXES = frozenset({".css", ".js", ".svg", ".json", ".map", ".md", ".txt"})
_STYLESHEET_URL = re.compile(rb"""url\(\s*(?P<quote>['"]?)(?P<target>[^'"()\s]+)(?P=quote)\s*\)""")
_EXTENSION_KEY = "funnel.static_files"
# Set in a request's WSGI environ once its static folder was looked at (development).
_CHECKED_KEY = "funnel.static_files.checked"


class UnknownStaticFile(LookupError):
    """A template names a static file that does not exist: a typo, caught by rendering."""


@dataclass(frozen=True)
class Asset:
    """One static file: its plain name, its fingerprinted name and where its bytes are."""

    name: str
    fingerprinted: str
    digest: str
    source: Path
    # A stylesheet's text with its url()s fingerprinted; None: the file as it is.
    rewritten: bytes | None = None

    def content(self) -> bytes | None:
        """What the fingerprinted name serves, or None when the file changed since."""
        if self.rewritten is not None:
            return self.rewritten
        try:
            data = self.source.read_bytes()
        except OSError:
            return None
        return data if hashlib.sha256(data).hexdigest() == self.digest else None


@dataclass(frozen=True)
class Manifest:
    """Every file of a static folder by its plain name and by its fingerprinted name."""

    assets: Mapping[str, Asset]
    by_fingerprint: Mapping[str, Asset]
    # Compressed bodies by the SHA-256 of what they compress: computed once per process.
    _compressed: dict[str, bytes | None] = field(default_factory=dict, compare=False)

    def fingerprinted(self, name: str) -> str:
        try:
            return self.assets[name].fingerprinted
        except KeyError:
            raise UnknownStaticFile(f"no static file named {name!r}") from None

    def names(self) -> dict[str, str]:
        """Plain name -> fingerprinted name, as ``manifest.json`` holds them."""
        return {name: asset.fingerprinted for name, asset in sorted(self.assets.items())}

    def compressed(self, name: str, data: bytes, digest: str) -> bytes | None:
        """The gzip twin of ``data`` (named ``name``), or None when gzip would not pay."""
        if digest not in self._compressed:
            self._compressed[digest] = compress(name, data)
        return self._compressed[digest]


def fingerprinted_name(name: str, digest: str) -> str:
    """``css/funnel.css`` -> ``css/funnel.<12 hex digits>.css``; ``LICENSE`` -> ``LICENSE.<..>``."""
    folder, _, base = name.rpartition("/")
    stem, dot, suffix = base.rpartition(".")
    fingerprint = digest[:FINGERPRINT_LENGTH]
    renamed = f"{stem}.{fingerprint}.{suffix}" if dot and stem else f"{base}.{fingerprint}"
    return f"{folder}/{renamed}" if folder else renamed


def compress(name: str, data: bytes) -> bytes | None:
    """gzip at its best level with no timestamp (the same bytes on every build), or None for
    a file that is compressed already or would not shrink."""
    if posixpath.splitext(name)[1].lower() not in COMPRESSIBLE_SUFFIXES:
        return None
    packed = gzip.compress(data, compresslevel=9, mtime=0)
    return packed if len(packed) < len(data) else None


def build_manifest(folder: Path) -> Manifest:
    """Fingerprint every file of ``folder`` (dot files left out).

    Stylesheets come last, so that their ``url()``s can name the other files' fingerprints; a
    stylesheet's reference to another stylesheet keeps its plain name.
    """
    files = {
        path.relative_to(folder).as_posix(): path
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    }
    assets: dict[str, Asset] = {}
    stylesheets = [name for name in files if name.endswith(".css")]
    for name, path in files.items():
        if name not in stylesheets:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            assets[name] = Asset(name, fingerprinted_name(name, digest), digest, path)
    for name in stylesheets:
        original = files[name].read_bytes()
        text = _fingerprint_urls(name, original, assets)
        digest = hashlib.sha256(text).hexdigest()
        rewritten = text if text != original else None
        assets[name] = Asset(name, fingerprinted_name(name, digest), digest, files[name], rewritten)
    return Manifest(assets, {asset.fingerprinted: asset for asset in assets.values()})


def _fingerprint_urls(stylesheet: str, text: bytes, assets: Mapping[str, Asset]) -> bytes:
    """Relative ``url()``s of a stylesheet that name a known file, renamed to its fingerprint
    (still relative: the fingerprinted stylesheet sits in the same folder)."""
    here = posixpath.dirname(stylesheet)

    def rename(found: re.Match[bytes]) -> bytes:
        target = found["target"].decode("utf-8", "replace")
        cut = re.search(r"[?#]", target)
        path, query = (target[: cut.start()], target[cut.start() :]) if cut else (target, "")
        if not path or ":" in path or path.startswith(("/", "#")):
            return found[0]  # data:, absolute or same-document: not a file of ours
        asset = assets.get(posixpath.normpath(posixpath.join(here, path)))
        if asset is None:
            return found[0]
        renamed = posixpath.relpath(asset.fingerprinted, here or ".") + query
        quote = found["quote"].decode()
        return f"url({quote}{renamed}{quote})".encode()

    return _STYLESHEET_URL.sub(rename, text)


# Fingerprinting reads every file: done once per folder and process (many apps in the tests),
# again only when a file's size or time changed.
_manifests: dict[Path, tuple[tuple[tuple[str, int, int], ...], Manifest]] = {}


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Each file's path, size and time: ``os.scandir`` rather than ``Path.rglob``, which
    costs several times more (development looks at the folder on every page)."""
    found = []
    pending = [os.fspath(folder)]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif entry.is_file():
                    status = entry.stat()
                    found.append((entry.path, status.st_size, status.st_mtime_ns))
    return tuple(sorted(found))


def manifest_for(folder: Path) -> Manifest:
    """The manifest of ``folder`` as its files are now."""
    signature = _signature(folder)
    known = _manifests.get(folder)
    if known is not None and known[0] == signature:
        return known[1]
    manifest = build_manifest(folder)
    _manifests[folder] = (signature, manifest)
    return manifest


def init_app(app: Flask) -> None:
    """Fingerprint the static folder once at start; serve it; give templates ``static_url``."""
    assert app.static_folder is not None
    app.extensions[_EXTENSION_KEY] = manifest_for(Path(app.static_folder))
    app.view_functions["static"] = serve
    app.jinja_env.globals["static_url"] = static_url


def current_manifest() -> Manifest:
    """The manifest computed at start; in development or debug mode, the files as they are
    now (a developer editing a stylesheet sees it on the next page, under its new name).

    The folder is looked at once per request, not once per link: walking it costs a page
    with a handful of links more than the rest of its rendering."""
    if current_app.debug or current_app.config.get("FUNNEL_ENV") == "development":
        environ = request.environ if has_request_context() else {}
        if _CHECKED_KEY not in environ:
            assert current_app.static_folder is not None
            folder = Path(current_app.static_folder)
            current_app.extensions[_EXTENSION_KEY] = manifest_for(folder)
            environ[_CHECKED_KEY] = True
    return current_app.extensions[_EXTENSION_KEY]


def static_url(name: str) -> str:
    """The URL of static file ``name`` under its fingerprinted name (templates call it)."""
    return url_for("static", filename=current_manifest().fingerprinted(name))


def serve(filename: str) -> Response:
    """``/static/<filename>``: a fingerprinted name for a year, a plain name for a day; any
    other name, an old fingerprint included, 404."""
    manifest = current_manifest()
    asset = manifest.by_fingerprint.get(filename)
    if asset is not None:
        data = asset.content()
        if data is None:
            return _not_found()
        return _answer(manifest, filename, data, asset.digest, IMMUTABLE)
    asset = manifest.assets.get(filename)
    if asset is None:
        return _not_found()
    try:
        data = asset.source.read_bytes()
    except OSError:
        return _not_found()
    return _answer(manifest, filename, data, hashlib.sha256(data).hexdigest(), PLAIN)


def _not_found() -> Response:
    """A short plain 404, as nginx answers: no page rendered (nor settings read) for a file
    that a browser fetches on its own."""
    return Response("Not Found\n", status=404, mimetype="text/plain")


def _answer(manifest: Manifest, name: str, data: bytes, digest: str, cache: str) -> Response:
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    compressed = manifest.compressed(name, data, digest)
    response = Response(data, mimetype=mimetype)
    tag = digest[: FINGERPRINT_LENGTH * 2]
    if compressed is not None:
        response.vary.add("Accept-Encoding")
        if request.accept_encodings.quality("gzip") > 0:
            response.set_data(compressed)
            response.content_encoding = "gzip"
            tag += "-gzip"
    response.headers["Cache-Control"] = cache
    response.set_etag(tag)
    return response.make_conditional(request)


def write_build(manifest: Manifest, output: Path) -> int:
    """Write every file under both names, their gzip twins and ``manifest.json`` into
    ``output`` for a web server. Returns the number of files written.

    The fingerprinted files of the previous build stay (pages rendered by servers not yet
    restarted link them, with the content they name); anything older is removed. Each file is
    written under a temporary name and renamed, so a server reading the folder meanwhile
    never sends half a file. A non-empty folder without a manifest is refused: it is not an
    earlier build, and its files are not ours to remove.
    """
    previous = output / MANIFEST_NAME
    if output.exists() and any(output.iterdir()) and not previous.is_file():
        raise FileExistsError(f"{output} holds files and no {MANIFEST_NAME}: not a static build")
    kept = set(json.loads(previous.read_text()).values()) if previous.is_file() else set()
    kept |= {f"{name}.gz" for name in kept}
    written: set[str] = set()
    for asset in manifest.assets.values():
        plain = asset.source.read_bytes()
        served = asset.rewritten if asset.rewritten is not None else plain
        for name, data in ((asset.fingerprinted, served), (asset.name, plain)):
            _write(output / name, data)
            written.add(name)
            compressed = compress(name, data)
            if compressed is not None:
                _write(output / f"{name}.gz", compressed)
                written.add(f"{name}.gz")
    _write(output / MANIFEST_NAME, (json.dumps(manifest.names(), indent=2) + "\n").encode())
    written.add(MANIFEST_NAME)
    for path in sorted(output.rglob("*"), reverse=True):
        relative = path.relative_to(output).as_posix()
        if path.is_file() and relative not in written | kept:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return len(written)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
