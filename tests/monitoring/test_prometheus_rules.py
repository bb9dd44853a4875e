"""US-51: the shipped Prometheus config and alert rules pass promtool, and the rules' unit tests.

promtool comes with Debian's ``prometheus`` package (``make monitoring-tools``): missing, these
tests skip locally and fail under ``CI=true``, as a missing database does.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import missing_service

pytestmark = pytest.mark.story("US-51")

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        missing_service("promtool is not installed (make monitoring-tools)")
    assert path is not None
    return path


def run(promtool: str, *arguments: str, folder: Path = PROMETHEUS) -> str:
    result = subprocess.run(
        [promtool, *arguments], cwd=folder, capture_output=True, text=True, timeout=120, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def test_the_scrape_config_and_its_rule_files_are_valid(promtool: str, tmp_path: Path) -> None:
    # given the config beside its rules and a token file, where Prometheus would read them
    for name in ("prometheus.yml", "alerts.yml"):
        shutil.copy(PROMETHEUS / name, tmp_path / name)
    config = (tmp_path / "prometheus.yml").read_text()
    token_file = tmp_path / "funnel-metrics-token"
    token_file.write_text("a-token\n")
    (tmp_path / "prometheus.yml").write_text(
        config.replace("/etc/prometheus/funnel-metrics-token", str(token_file))
    )

    output = run(promtool, "check", "config", "prometheus.yml", folder=tmp_path)

    assert "SUCCESS: prometheus.yml is valid prometheus config file syntax" in output
    assert "SUCCESS: 6 rules found" in output


def test_the_alert_rules_are_valid(promtool: str) -> None:
    assert "SUCCESS: 6 rules found" in run(promtool, "check", "rules", "alerts.yml")


def test_the_alert_rules_fire_as_their_unit_tests_say(promtool: str) -> None:
    assert "SUCCESS" in run(promtool, "test", "rules", "alerts.test.yml")


def test_every_alert_the_story_names_is_shipped_and_tested() -> None:
    rules = (PROMETHEUS / "alerts.yml").read_text()
    tests = (PROMETHEUS / "alerts.test.yml").read_text()
    for alert in (
        "FunnelDown",
        "FunnelHighErrorRate",
        "FunnelSlowResponses",
        "FunnelPaymentFailures",
        "FunnelJobFailures",
        "FunnelUnreconciledCharges",
    ):
        assert f"alert: {alert}" in rules
        assert f"alertname: {alert}" in tests
