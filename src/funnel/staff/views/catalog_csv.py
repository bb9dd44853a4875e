"""Staff catalogue CSV pages (``catalog.manage``; ``inventory.adjust`` too when the stock
changes), added to the staff blueprint by ``register`` (US-17): export the catalogue, and
import a file in two steps, upload (checked, then previewed or its errors listed) and confirm.

Between the two steps the uploaded file waits in the instance folder under a random token,
named for the staff member who sent it, for ``UPLOAD_LIFETIME``; the confirm form carries
nothing but its CSRF token, so what is imported is exactly what was previewed, never a copy
sent back by the browser. The import checks the file again in its own transaction.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from funnel.accounts.permissions import Permission
from funnel.catalog.errors import InvalidCatalogFile
from funnel.catalog.forms import CatalogueImportForm, ConfirmImportForm
from funnel.catalog.services.csv_export import export_catalogue_csv
from funnel.core import clock
from funnel.inventory import services as inventory
from funnel.staff.access import page_permission

UPLOAD_LIFETIME_SECONDS = 30 * 60
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
PREVIEWED_STOCK_CHANGES = 100
INVALID = 422
manage_catalog = page_permission(Permission.CATALOG_MANAGE)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/products/export.csv", "products_export", export, methods=["GET"])
    bp.add_url_rule("/products/import", "products_import", import_page, methods=["GET"])
    bp.add_url_rule("/products/import", "products_import_upload", upload, methods=["POST"])
    bp.add_url_rule(
        "/products/import/<token>", "products_import_confirm", confirm, methods=["POST"]
    )


@manage_catalog
def export() -> ResponseReturnValue:
    text = "".join(export_catalogue_csv(actor_user_id=current_user.id))
    filename = f"catalogue-{clock.utcnow():%Y-%m-%d}.csv"
    return Response(
        text.encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


def _uploads() -> Path:
    folder = Path(current_app.config["CATALOG_IMPORTS_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _upload_path(token: str) -> Path:
    return _uploads() / f"{current_user.id}-{token}.csv"


def _forget_expired_uploads() -> None:
    oldest = time.time() - UPLOAD_LIFETIME_SECONDS
    for path in _uploads().glob("*.csv"):
        if path.stat().st_mtime < oldest:
            path.unlink(missing_ok=True)


def _import_page(
    form: CatalogueImportForm, error: InvalidCatalogFile | None = None, status: int = 200
) -> ResponseReturnValue:
    html = render_template("staff/catalog/import.html", form=form, error=error)
    return html, status


@manage_catalog
def import_page() -> ResponseReturnValue:
    return _import_page(CatalogueImportForm(formdata=None))


@manage_catalog
def upload() -> ResponseReturnValue:
    form = CatalogueImportForm()
    if not form.validate() or not form.file.data:
        form.file.errors = [*form.file.errors, "Choose a CSV file."]
        return _import_page(form, status=INVALID)
    data = form.file.data.read()
    try:
        summary = inventory.preview_catalogue_import(data, actor_user_id=current_user.id)
    except InvalidCatalogFile as error:
        return _import_page(form, error, INVALID)
    _forget_expired_uploads()
    token = secrets.token_urlsafe(24)
    _upload_path(token).write_bytes(data)
    return render_template(
        "staff/catalog/import_preview.html",
        summary=summary,
        stock_changes=summary.stock_changes[:PREVIEWED_STOCK_CHANGES],
        confirm_form=ConfirmImportForm(formdata=None),
        token=token,
        filename=form.file.data.filename or "the file",
    )


@manage_catalog
def confirm(token: str) -> ResponseReturnValue:
    form = ConfirmImportForm()
    if not form.validate():
        abort(400)
    path = _upload_path(token) if TOKEN.fullmatch(token) else None
    if (
        path is None
        or not path.exists()
        or path.stat().st_mtime < time.time() - UPLOAD_LIFETIME_SECONDS
    ):
        if path is not None:
            path.unlink(missing_ok=True)
        flash("That upload has expired or was already imported: upload the file again.", "error")
        return redirect(url_for("staff.products_import"), code=303)
    try:
        summary = inventory.import_catalogue(path.read_bytes(), actor_user_id=current_user.id)
    except InvalidCatalogFile as error:
        path.unlink(missing_ok=True)
        return _import_page(CatalogueImportForm(formdata=None), error, INVALID)
    path.unlink(missing_ok=True)
    flash(
        f"Imported {summary.rows} rows: {summary.products_created} products created, "
        f"{summary.products_updated} updated; {summary.variants_created} variants created, "
        f"{summary.variants_updated} updated; {len(summary.stock_changes)} stock levels counted.",
        "success",
    )
    return redirect(url_for("staff.products"), code=303)
