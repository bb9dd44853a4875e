"""The ceiling: a bare Flask app doing each page's minimum work, served the same way as the shop.

``/`` answers "hello" (no database). ``/one-query`` reads one product by primary key (what a
product page cannot do less than); ``/list`` reads 24 products in one query and renders them
with a small Jinja template (what a listing page cannot do less than). Both read the shop's own
``products`` table at ``BENCH_DATABASE_URL`` (the URL the shop of the same run is served with,
SQLite file or PostgreSQL), through a SQLAlchemy Core engine and its connection pool: no ORM, no
session, no extension, so that the difference with a shop page is what the shop adds.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask, abort, request

app = Flask(__name__)

_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}
_ONE = sa.text("SELECT id, slug, title, min_price_amount, currency FROM products WHERE id = :id")
_LIST = sa.text(
    "SELECT id, slug, title, min_price_amount, currency FROM products"
    " WHERE status = 'active' ORDER BY created_at DESC LIMIT 24"
)
_LIST_TEMPLATE = """<!doctype html>
<title>Products</title>
<ul>
{% for row in rows %}  <li><a href="/p/{{ row.slug }}">{{ row.title }}</a>
    {{ "%.2f"|format(row.min_price_amount / 100) }} {{ row.currency }}</li>
{% endfor %}</ul>
"""
_list_template = app.jinja_env.from_string(_LIST_TEMPLATE)
_engine: sa.Engine | None = None


def engine() -> sa.Engine:
    """One pooled engine per worker, made at the first query (gunicorn forks before it)."""
    global _engine
    if _engine is None:
        url = os.environ.get("BENCH_DATABASE_URL", "sqlite://")
        scheme, separator, rest = url.partition("://")
        _engine = sa.create_engine(f"{_DRIVERS.get(scheme, scheme)}{separator}{rest}")
    return _engine


@app.get("/")
def hello() -> str:
    return "hello"


@app.get("/one-query")
def one_query() -> dict[str, object]:
    """One product by primary key (``?id=``, the first product by default)."""
    with engine().connect() as connection:
        row = connection.execute(_ONE, {"id": request.args.get("id", 1, type=int)}).first()
    if row is None:
        abort(404)
    return dict(row._mapping)


@app.get("/list")
def product_list() -> str:
    """The 24 newest active products (the shop's index on status and creation time reads
    just those rows, at any catalogue size), one query, rendered by a template."""
    with engine().connect() as connection:
        rows = connection.execute(_LIST).all()
    return _list_template.render(rows=rows)
