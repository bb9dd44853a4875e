"""Forgiving search: stemmed full-text indexes, and the catalogue's vocabulary with a trigram
index on each database, for typo tolerance and "did you mean".

- SQLite: ``products_fts`` is made again with the ``porter`` tokenizer (over ``unicode61``);
  ``search_terms_fts`` is an FTS5 ``trigram`` table over ``search_terms.term``, kept by
  triggers.
- PostgreSQL: the ``pg_trgm`` extension (trusted: the database's owner may create it); the
  products' GIN index now covers ``simple`` and ``english`` (stemmed) vectors; a GiST
  ``gist_trgm_ops`` index on ``search_terms.term``.
- MariaDB/MySQL: a FULLTEXT index on ``search_terms.trigrams``.

Existing products get the new last line of their search document (compounds and stems, see
``funnel.catalog.search.words.document_extras``), and their words fill the vocabulary. Like
the catalogue's first search objects, the indexes and FTS tables are not in the models'
metadata and the schema comparison ignores them by name. The downgrade leaves ``pg_trgm``
installed (another schema may use it).

Revision ID: 0023_search_index
Revises: 0022_refund_lines
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from funnel.catalog.search.words import document_extras, trigrams, vocabulary

revision = "0023_search_index"
down_revision = "0022_refund_lines"
branch_labels = None
depends_on = None

BATCH = 1_000


def _fts_statements(tokenizer: str) -> tuple[str, ...]:
    """The products' FTS5 table and its triggers (as 0002_catalog made them), with ``tokenizer``."""
    return (
        "CREATE VIRTUAL TABLE products_fts USING fts5("
        "search_document, content='products', content_rowid='id', "
        f"tokenize='{tokenizer}')",
        "CREATE TRIGGER products_fts_after_insert AFTER INSERT ON products BEGIN "
        "INSERT INTO products_fts(rowid, search_document) VALUES (new.id, new.search_document); "
        "END",
        "CREATE TRIGGER products_fts_after_delete AFTER DELETE ON products BEGIN "
        "INSERT INTO products_fts(products_fts, rowid, search_document) "
        "VALUES ('delete', old.id, old.search_document); "
        "END",
        "CREATE TRIGGER products_fts_after_update AFTER UPDATE OF search_document ON products "
        "BEGIN "
        "INSERT INTO products_fts(products_fts, rowid, search_document) "
        "VALUES ('delete', old.id, old.search_document); "
        "INSERT INTO products_fts(rowid, search_document) VALUES (new.id, new.search_document); "
        "END",
        "INSERT INTO products_fts(products_fts) VALUES ('rebuild')",
    )


SQLITE_TERMS = (
    "CREATE VIRTUAL TABLE search_terms_fts USING fts5("
    "term, content='search_terms', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER search_terms_fts_after_insert AFTER INSERT ON search_terms BEGIN "
    "INSERT INTO search_terms_fts(rowid, term) VALUES (new.id, new.term); "
    "END",
    "CREATE TRIGGER search_terms_fts_after_delete AFTER DELETE ON search_terms BEGIN "
    "INSERT INTO search_terms_fts(search_terms_fts, rowid, term) "
    "VALUES ('delete', old.id, old.term); "
    "END",
    "CREATE TRIGGER search_terms_fts_after_update AFTER UPDATE OF term ON search_terms BEGIN "
    "INSERT INTO search_terms_fts(search_terms_fts, rowid, term) "
    "VALUES ('delete', old.id, old.term); "
    "INSERT INTO search_terms_fts(rowid, term) VALUES (new.id, new.term); "
    "END",
)
PRODUCT_TRIGGERS = ("insert", "delete", "update")
POSTGRESQL_SIMPLE = "to_tsvector('simple', search_document)"
POSTGRESQL_STEMMED = (
    "(to_tsvector('simple', search_document) || to_tsvector('english', search_document))"
)


def _drop_products_fts() -> None:
    for trigger in PRODUCT_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS products_fts_after_{trigger}")
    op.execute("DROP TABLE IF EXISTS products_fts")


def _products_index(expression: str) -> None:
    op.execute("DROP INDEX IF EXISTS ix_products_search_document_tsv")
    op.execute(f"CREATE INDEX ix_products_search_document_tsv ON products USING gin ({expression})")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "search_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=40), nullable=False),
        sa.Column("trigrams", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_terms")),
        sa.UniqueConstraint("term", name=op.f("uq_search_terms_term")),
    )
    if dialect == "sqlite":
        _drop_products_fts()
        for statement in (*_fts_statements("porter unicode61 remove_diacritics 2"), *SQLITE_TERMS):
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        _products_index(POSTGRESQL_STEMMED)
        op.execute(
            "CREATE INDEX ix_search_terms_term_trgm ON search_terms USING gist (term gist_trgm_ops)"
        )
    elif dialect in {"mysql", "mariadb"}:
        op.execute(
            "CREATE FULLTEXT INDEX ix_search_terms_trigrams_fulltext ON search_terms (trigrams)"
        )
    _fill_from_products()


def _fill_from_products() -> None:
    """Give existing products their document's last line and the vocabulary their words."""
    connection = op.get_bind()
    products = sa.table(
        "products",
        sa.column("id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("description", sa.Text),
        sa.column("search_document", sa.Text),
    )
    terms = sa.table("search_terms", sa.column("term", sa.String), sa.column("trigrams", sa.Text))
    words: set[str] = set()
    updates = []
    for product_id, title, description, document in connection.execute(
        sa.select(
            products.c.id, products.c.title, products.c.description, products.c.search_document
        )
    ):
        words |= vocabulary([title, description])
        extras = document_extras(title, description)
        if extras:
            updates.append({"key": product_id, "document": f"{document}\n{' '.join(extras)}"})
    update = (
        sa.update(products)
        .where(products.c.id == sa.bindparam("key"))
        .values(search_document=sa.bindparam("document"))
    )
    for start in range(0, len(updates), BATCH):
        connection.execute(update, updates[start : start + BATCH])
    insert = sa.insert(terms)
    if connection.dialect.name in {"mysql", "mariadb"}:
        # Its collations ignore accents: "cafe" and "café" are one word there.
        insert = mysql.insert(terms)
        insert = insert.on_duplicate_key_update(term=insert.inserted.term)
    rows = [{"term": word, "trigrams": " ".join(trigrams(word))} for word in sorted(words)]
    for start in range(0, len(rows), BATCH):
        connection.execute(insert, rows[start : start + BATCH])


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in PRODUCT_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS search_terms_fts_after_{trigger}")
        op.execute("DROP TABLE IF EXISTS search_terms_fts")
        _drop_products_fts()
        for statement in _fts_statements("unicode61 remove_diacritics 2"):
            op.execute(statement)
    elif dialect == "postgresql":
        _products_index(POSTGRESQL_SIMPLE)
    op.drop_table("search_terms")
