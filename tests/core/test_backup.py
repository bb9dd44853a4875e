"""``flask --app funnel backup FILE`` and ``restore FILE``: a SQLite shop backed up while it runs,
restored into a fresh instance with every order; files that are not Funnel backups refused."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from funnel.accounts.models import User
from funnel.catalog.models import Variant
from funnel.extensions import db
from funnel.orders.models import Order, OrderLine
from funnel.payments.models import Payment
from tests.conftest import build_app
from tests.factories.accounts import UserFactory
from tests.factories.inventory import stocked_variant
from tests.factories.orders import paid_order
from tests.support.mailbox import SmtpServer

pytestmark = pytest.mark.story("US-54")

Shop = Callable[[Path], AbstractContextManager[Flask]]


@pytest.fixture
def shop(smtp_server: SmtpServer) -> Shop:
    """Opens a shop on the SQLite file given, migrated, in an application context."""

    @contextmanager
    def open_shop(database: Path, *, migrate: bool = True) -> Iterator[Flask]:
        database.parent.mkdir(parents=True, exist_ok=True)
        application = build_app(f"sqlite:///{database}", smtp_server, {})
        with application.app_context():
            try:
                if migrate:
                    upgrade(directory=application.extensions["migrate"].directory)
                yield application
            finally:
                db.session.remove()
                db.engine.dispose()

    return open_shop


def invoke(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def orders_in_shop() -> dict[str, tuple[str, int, list[int], str]]:
    """Each order by number: status, total, line quantities and its payment's status."""
    db.session.commit()  # a new snapshot: what the database holds now
    return {
        order.number: (
            order.status,
            order.total_minor,
            sorted(
                db.session.scalars(select(OrderLine.quantity).where(OrderLine.order_id == order.id))
            ),
            db.session.scalars(
                select(Payment.status).where(Payment.payable_reference == order.number)
            ).one(),
        )
        for order in db.session.scalars(select(Order).order_by(Order.number))
    }


def stock_in_shop() -> dict[str, int]:
    db.session.commit()
    return dict(db.session.execute(select(Variant.sku, Variant.stock_quantity)).tuples().all())


def test_a_backup_taken_while_the_shop_writes_restores_every_order_into_a_new_instance(
    shop: Shop, tmp_path: Path
) -> None:
    # given a running shop with three paid orders of a customer, committed but still in the WAL
    live = tmp_path / "live" / "funnel.db"
    with shop(live) as app:
        customer = UserFactory(email="ann@example.com")
        for quantity in (1, 2, 3):
            paid_order(lines=[(stocked_variant(10), quantity)], user_id=customer.id)
        orders = orders_in_shop()
        stock = stock_in_shop()
        customer_id = customer.id
        assert len(orders) == 3
        assert {status for status, *_ in orders.values()} == {"paid"}
        assert (live.parent / "funnel.db-wal").stat().st_size > 0

        # and another connection in the middle of a write (an order's e-mail being changed)
        writer = sqlite3.connect(live, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE orders SET email = 'changed@example.com'")

        # when the operator backs up meanwhile
        backup = tmp_path / "backups" / "funnel-backup.db"
        result = invoke(app, "backup", str(backup))
        writer.execute("COMMIT")
        writer.close()

    # then the backup is one file, with nothing left beside it
    assert result.exit_code == 0, result.output
    assert result.output == f"Backed up {live} to {backup}.\n"
    assert sorted(path.name for path in backup.parent.iterdir()) == ["funnel-backup.db"]

    # when it is restored into a new instance
    fresh = tmp_path / "fresh" / "funnel.db"
    with shop(fresh, migrate=False) as app:
        result = invoke(app, "restore", str(backup), "--yes")

        # then every order is there, paid, with its lines and payment, and the stock as it was,
        # and nothing of the write that had not committed
        assert result.exit_code == 0, result.output
        assert result.output == f"Restored {backup} into {fresh}.\n"
        assert orders_in_shop() == orders
        assert stock_in_shop() == stock
        assert list(db.session.scalars(select(Order.user_id).distinct())) == [customer_id]
        assert db.session.get(User, customer_id).email == "ann@example.com"
        emails = set(db.session.scalars(select(Order.email)))
        assert emails == {"buyer@example.com"}


def test_a_backup_taken_while_visits_are_committed_holds_an_unbroken_prefix_of_them(
    shop: Shop, tmp_path: Path
) -> None:
    # given a shop recording visits from another connection, one commit after another
    live = tmp_path / "funnel.db"
    committed: list[int] = []
    started, stop = threading.Event(), threading.Event()

    def record_visits() -> None:
        writer = sqlite3.connect(live, isolation_level=None, timeout=15)
        try:
            while not stop.is_set():
                cursor = writer.execute(
                    "INSERT INTO funnel_events (stage, visitor_id, occurred_at) "
                    "VALUES ('visit', 'visitor', '2026-12-01 10:00:00.000000')"
                )
                committed.append(cursor.lastrowid)
                if len(committed) == 50:
                    started.set()
        finally:
            writer.close()

    with shop(live) as app:
        thread = threading.Thread(target=record_visits)
        thread.start()
        try:
            assert started.wait(60)
            # when the operator backs up meanwhile
            before = len(committed)
            result = invoke(app, "backup", str(tmp_path / "backup.db"))
            after = len(committed)
        finally:
            stop.set()
            thread.join()

    # then the backup holds the visits committed up to one moment: all of them, none missing
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "backup.db") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        ids = [row[0] for row in connection.execute("SELECT id FROM funnel_events ORDER BY id")]
    assert before <= len(ids) <= after
    assert ids == committed[: len(ids)]


def test_restoring_over_a_shop_keeps_its_database_as_before_restore(
    shop: Shop, tmp_path: Path
) -> None:
    # given a backup holding one order, and a shop that has taken a second one since
    live = tmp_path / "funnel.db"
    backup = tmp_path / "backup.db"
    with shop(live) as app:
        first = paid_order().number
        assert invoke(app, "backup", str(backup)).exit_code == 0
        second = paid_order().number
        db.session.remove()

        # when the backup is restored (the shop stopped)
        result = invoke(app, "restore", str(backup), "--yes")

        # then the shop holds the first order only
        assert result.exit_code == 0, result.output
        assert list(orders_in_shop()) == [first]
    assert result.output.splitlines()[0] == (
        f"The database as it was is kept in {live}.before-restore."
    )

    # and the database as it was, both orders, is kept beside it
    with shop(tmp_path / "funnel.db.before-restore", migrate=False):
        assert sorted(orders_in_shop()) == sorted([first, second])

    # and the database cannot be restored from itself
    with shop(live, migrate=False) as app:
        result = invoke(app, "restore", str(live), "--yes")
        assert result.exit_code == 1
        assert "Nothing restored: that file is the shop's database itself." in result.output

    # and a second restore will not overwrite that kept database
    with shop(live, migrate=False) as app:
        result = invoke(app, "restore", str(backup), "--yes")
        assert result.exit_code == 1
        assert "funnel.db.before-restore exists, from an earlier restore" in result.output
        assert list(orders_in_shop()) == [first]


def test_restore_without_yes_tells_the_operator_to_stop_the_shop_and_changes_nothing(
    shop: Shop, tmp_path: Path
) -> None:
    live = tmp_path / "funnel.db"
    backup = tmp_path / "backup.db"
    with shop(live) as app:
        assert invoke(app, "backup", str(backup)).exit_code == 0
        number = paid_order().number

        result = invoke(app, "restore", str(backup))

        assert result.exit_code == 1
        assert "Stop the shop (web server, workers and scheduler) first" in result.output
        assert "--yes" in result.output
        assert list(orders_in_shop()) == [number]
    assert not (tmp_path / "funnel.db.before-restore").exists()


def test_backup_refuses_to_overwrite_a_file_unless_forced(shop: Shop, tmp_path: Path) -> None:
    # given a file where the backup should go
    backup = tmp_path / "backup.db"
    backup.write_text("yesterday's backup", encoding="utf-8")
    with shop(tmp_path / "funnel.db") as app:
        # when the operator backs up to it
        result = invoke(app, "backup", str(backup))

        # then nothing is written
        assert result.exit_code == 1
        assert f"No backup made: {backup} exists; give --force to replace it." in result.output
        assert backup.read_text(encoding="utf-8") == "yesterday's backup"

        # and with --force it is replaced by a backup
        assert invoke(app, "backup", "--force", str(backup)).exit_code == 0
    with sqlite3.connect(backup) as connection:
        assert connection.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)


def write_sqlite(path: Path, *statements: str) -> None:
    connection = sqlite3.connect(path)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()


@pytest.mark.parametrize(
    ("make_file", "message"),
    [
        (
            lambda path: path.write_text("order,total\nA-1,100\n", encoding="utf-8"),
            "is not a Funnel SQLite database (file is not a database)",
        ),
        (
            lambda path: write_sqlite(path, "CREATE TABLE notes (body TEXT)"),
            "is not a Funnel SQLite database (it has no migration table)",
        ),
        (
            lambda path: write_sqlite(
                path,
                "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
                "INSERT INTO alembic_version VALUES ('0099_from_the_future')",
            ),
            "was made by a newer version of Funnel (migration 0099_from_the_future is unknown "
            "to this one): upgrade Funnel first, then restore",
        ),
    ],
    ids=["not-sqlite", "not-funnel", "newer-funnel"],
)
def test_restore_refuses_a_file_that_is_not_a_backup_of_this_funnel(
    shop: Shop, tmp_path: Path, make_file: Callable[[Path], None], message: str
) -> None:
    # given a shop with an order, and a file that is not a backup it can take
    candidate = tmp_path / "candidate.db"
    make_file(candidate)
    with shop(tmp_path / "funnel.db") as app:
        number = paid_order().number

        # when the operator restores it, even confirming
        result = invoke(app, "restore", str(candidate), "--yes")

        # then it is refused with the reason, and the shop is unchanged
        assert result.exit_code == 1
        assert f"Nothing restored: {candidate} {message}." in result.output
        assert list(orders_in_shop()) == [number]
    assert not (tmp_path / "funnel.db.before-restore").exists()


@pytest.mark.parametrize(
    ("url", "route"),
    [
        ("postgresql+psycopg://funnel@127.0.0.1:1/funnel", "PostgreSQL: pg_dump --format=custom"),
        ("mysql+pymysql://funnel@127.0.0.1:1/funnel", "MariaDB/MySQL: mariadb-dump"),
    ],
    ids=["postgresql", "mariadb"],
)
@pytest.mark.parametrize("command", ["backup", "restore"])
def test_backup_and_restore_refuse_other_databases_and_name_their_tools(
    smtp_server: SmtpServer, tmp_path: Path, url: str, route: str, command: str
) -> None:
    # given a shop on PostgreSQL or MariaDB (never reached: the refusal comes first)
    app = build_app(url, smtp_server, {})
    backup = tmp_path / "backup.db"
    write_sqlite(backup, "CREATE TABLE alembic_version (version_num VARCHAR(32))")

    # when the operator runs backup or restore
    result = invoke(app, command, str(backup), "--yes" if command == "restore" else "--force")

    # then it is refused, pointing to the database's own tools and the manual
    assert result.exit_code == 1
    assert "backup and restore work on SQLite only" in result.output
    assert route in result.output
    assert 'the operator manual, "Back up", gives the steps' in result.output
