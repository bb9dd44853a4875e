"""A web worker loads only what serving the shop needs (issue: worker memory).

The demo data generator (Faker) and the Stripe client are each some 10 MB a process keeps
for good once imported; a shop that serves pages without the demo command or Stripe must not
pay that in every gunicorn worker.
"""

import json
import subprocess
import sys
from pathlib import Path

SERVE_A_PAGE = """
import json, sys
from funnel import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "PAYMENT_GATEWAYS": sys.argv[2]})
app.test_client().get("/healthz")
print(json.dumps(sorted(name for name in ("faker", "stripe") if name in sys.modules)))
"""


def loaded_after(tmp_path: Path, gateways: str, code: str = SERVE_A_PAGE) -> list[str]:
    """Which of Faker and Stripe a fresh process has loaded after running ``code``."""
    database = f"sqlite:///{tmp_path / 'shop.db'}"
    finished = subprocess.run(
        [sys.executable, "-c", code, database, gateways],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(finished.stdout.strip().splitlines()[-1])


def test_a_worker_without_stripe_loads_neither_faker_nor_the_stripe_client(
    tmp_path: Path,
) -> None:
    assert loaded_after(tmp_path, "test,manual") == []


def test_a_shop_taking_cards_through_stripe_loads_the_stripe_client_when_asked(
    tmp_path: Path,
) -> None:
    code = SERVE_A_PAGE.replace(
        'app.test_client().get("/healthz")',
        "from funnel.payments.gateways import enabled_gateways\n"
        "with app.app_context():\n    enabled_gateways()",
    )
    assert loaded_after(tmp_path, "stripe,manual", code) == ["stripe"]
