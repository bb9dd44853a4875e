from flask import Blueprint, render_template

bp = Blueprint("catalog", __name__)
media_bp = Blueprint("media", __name__)


@bp.get("/")
def home() -> str:
    return render_template("errors/error.html", title="Funnel", detail="Welcome", status=200)


@bp.get("/search")
def search() -> str:
    return "search"
