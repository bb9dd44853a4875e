"""A web worker loads only what serving the shop needs (issue: worker memory).

The demo data generator (Faker), the Stripe client, Alembic (Flask-Migrate), Pillow, the QR
code maker, the progress bars and the pure-Python stemmers are each some MB a process keeps for
good once imported; a shop that serves pages and answers its health checks without the demo
command, Stripe, a migration, an image upload or a second factor enrolment must not pay that
in every gunicorn worker.
"""

import json
import subprocess
import sys
from pathlib import Path

SERVE_A_PAGE = """
import json, sys
from funnel import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "PAYMENT_GATEWAYS": sys.argv[2]})
client = app.test_client()
client.get("/healthz")
client.get("/readyz")
heavy = ("faker", "stripe", "alembic", "flask_migrate", "PIL", "segno", "tqdm", "snowballstemmer")
print(json.dumps(sorted(name for name in heavy if name in sys.modules)))
"""


def loaded_after(tmp_path: Path, gateways: str, code: str = SERVE_A_PAGE) -> list[str]:
    """Which of the heavy modules a fresh process has loaded after running ``code``."""
    database = f"sqlite:///{tmp_path / 'shop.db'}"
    finished = subprocess.run(
        [sys.executable, "-c", code, database, gateways],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(finished.stdout.strip().splitlines()[-1])


def test_a_worker_without_stripe_loads_none_of_the_heavy_modules(
    tmp_path: Path,
) -> None:
    assert loaded_after(tmp_path, "test,manual") == []


def test_a_shop_taking_cards_through_stripe_loads_the_stripe_client_when_asked(
    tmp_path: Path,
) -> None:
    code = SERVE_A_PAGE.replace(
        'client.get("/readyz")',
        "from funnel.payments.gateways import enabled_gateways\n"
        "with app.app_context():\n    enabled_gateways()",
    )
    assert loaded_after(tmp_path, "stripe,manual", code) == ["stripe"]


def test_the_readiness_check_knows_the_heads_alembic_knows() -> None:
    from alembic.script import ScriptDirectory

    from funnel.config import migrations_directory
    from funnel.core.migrations import head_revisions

    directory = migrations_directory()
    assert head_revisions(directory) == frozenset(ScriptDirectory(directory).get_heads())
    assert head_revisions(directory) == {"0039_category_sort_indexes"}
