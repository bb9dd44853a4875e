"""US-46: the GitHub Actions workflow, the GitLab pipeline and the Jenkinsfile run as .ci/run does.

None of the three can run on this machine, so each is checked against its published schema
(check-jsonschema's vendored copies, offline) and for what it runs: `make lint` and `make test`
with PostgreSQL, MariaDB, Redis and RabbitMQ required, as `.ci/run` does. The Docker Compose file
is checked the same way.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.story("US-46")

ROOT = Path(__file__).resolve().parents[2]
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
SCHEMAS = {
    ".github/workflows/ci.yml": "vendor.github-workflows",
    ".gitlab-ci.yml": "vendor.gitlab-ci",
    "compose.yaml": "vendor.compose-spec",
}
TEST_URLS = (
    "FUNNEL_TEST_POSTGRES_URL",
    "FUNNEL_TEST_MYSQL_URL",
    "FUNNEL_TEST_REDIS_URL",
    "FUNNEL_TEST_AMQP_URL",
)


def _check(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize(("name", "schema"), sorted(SCHEMAS.items()))
def test_each_file_matches_its_published_schema(name: str, schema: str) -> None:
    result = _check(schema, ROOT / name)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("name", "schema"), sorted(SCHEMAS.items()))
def test_the_schema_check_rejects_a_broken_copy(name: str, schema: str, tmp_path: Path) -> None:
    broken = yaml.safe_load((ROOT / name).read_text())
    broken["no-such-key-anywhere"] = {"at": "the top"}
    copy = tmp_path / Path(name).name
    copy.write_text(yaml.safe_dump(broken))

    result = _check(schema, copy)

    assert result.returncode == 1


def test_the_github_workflow_lints_and_tests_with_every_backend_required() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    job = workflow["jobs"]["test"]
    commands = [step["run"] for step in job["steps"] if "run" in step]

    assert sorted(job["services"]) == ["mariadb", "postgres", "rabbitmq", "redis"]
    assert job["env"]["CI"] == "true"
    assert sorted(key for key in job["env"] if key.startswith("FUNNEL_TEST_")) == sorted(TEST_URLS)
    assert commands[-2:] == ["make lint", "make test"]
    assert job["timeout-minutes"] == 90


def test_the_gitlab_pipeline_lints_and_tests_with_every_backend_required() -> None:
    pipeline = yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text())

    assert pipeline["lint"]["script"] == ["make lint"]
    assert pipeline["test"]["script"] == ["make test"]
    assert [service.split(":")[0] for service in pipeline["test"]["services"]] == [
        "postgres",
        "mariadb",
        "redis",
        "rabbitmq",
    ]
    assert pipeline["variables"]["CI"] == "true"
    assert all(key in pipeline["variables"] for key in TEST_URLS)


def test_the_jenkinsfile_is_a_declarative_pipeline_running_the_ci_entry() -> None:
    text = (ROOT / "Jenkinsfile").read_text()
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))

    assert code.count("{") == code.count("}")
    assert re.search(r"^pipeline \{", code, re.MULTILINE)
    for section in ("agent any", "options {", "environment {", "stages {", "steps {"):
        assert section in code
    assert "CI = 'true'" in code
    assert re.findall(r"sh '([^']+)'", code) == [".ci/run"]


def test_the_ci_entry_runs_the_readme_test_command_with_every_backend() -> None:
    script = (ROOT / ".ci/run").read_text()
    readme = (ROOT / "README.md").read_text()

    assert "make test   # runs the test suite" in readme
    assert script.rstrip().splitlines()[-1] == "make test"
    assert "make lint" in script
    assert all(f"export {key}=" in script for key in TEST_URLS)
