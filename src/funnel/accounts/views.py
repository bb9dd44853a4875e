from flask import Blueprint

bp = Blueprint("accounts", __name__)


@bp.get("/account")
def profile() -> str:
    return "account"


@bp.get("/sign-in")
def sign_in() -> str:
    return "sign in"


@bp.get("/register")
def register() -> str:
    return "register"


@bp.post("/sign-out")
def sign_out() -> str:
    return "signed out"
