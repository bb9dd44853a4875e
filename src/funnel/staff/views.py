from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/")
def dashboard() -> str:
    return "staff"
