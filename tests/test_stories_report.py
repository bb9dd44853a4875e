"""The ``make stories`` report: parsing the requirements, counting runs, rendering the table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.stories import (
    Citation,
    Outcome,
    StoryRow,
    function_id,
    parse_stories,
    record,
    render,
    story_ids,
    tally,
)

REPOSITORY = Path(__file__).resolve().parents[1]

REQUIREMENTS = """\
# Requirements

## Built

### US-01 Register an account
Status: built

Some text with a ### inside a line, which is not a heading.

### US-02 Verify my email | address
Status: built

## Planned

### US-03 Sign in and sign out
Status: planned
"""

STORIES = {
    "US-01": "Register an account",
    "US-02": "Verify my email | address",
    "US-03": "Sign in and sign out",
}


class FakeItem:
    """Just enough of a pytest item for ``story_ids`` and ``function_id``."""

    def __init__(self, nodeid: str, *markers: pytest.MarkDecorator) -> None:
        self.nodeid = nodeid
        self.markers = [decorator.mark for decorator in markers]

    def iter_markers(self, name: str) -> list[pytest.Mark]:
        return [mark for mark in self.markers if mark.name == name]


def test_parse_stories_reads_level_three_headings_in_document_order() -> None:
    # given the requirements markdown / when parsed
    stories = parse_stories(REQUIREMENTS)

    # then
    assert stories == STORIES
    assert list(stories) == ["US-01", "US-02", "US-03"]


def test_parse_stories_ignores_malformed_headings() -> None:
    # given headings that are not story headings
    markdown = "## US-04 Level two\n### US-5 One digit\n#### US-06 Level four\n### US-07 Real\n"

    # when / then
    assert parse_stories(markdown) == {"US-07": "Real"}


def test_parse_stories_refuses_a_duplicate_id() -> None:
    with pytest.raises(ValueError, match=r"^US-01 is defined twice in the requirements$"):
        parse_stories("### US-01 One\n### US-01 Again\n")


def test_story_ids_gathers_every_id_of_every_story_marker() -> None:
    # given an item with a two-id marker and a one-id marker (e.g. module-level), and another mark
    item = FakeItem(
        "tests/x.py::test_y",
        pytest.mark.story("US-01", "US-03"),
        pytest.mark.e2e,
        pytest.mark.story("US-08"),
    )

    # when / then
    assert story_ids(item) == ("US-01", "US-03", "US-08")  # type: ignore[arg-type]


def test_a_story_marker_without_an_id_cites_an_unknown_story() -> None:
    item = FakeItem("tests/x.py::test_y", pytest.mark.story())

    assert story_ids(item) == ("(no id)",)  # type: ignore[arg-type]


def test_function_id_drops_the_parameters() -> None:
    assert function_id(FakeItem("tests/x.py::test_y[sqlite]")) == "tests/x.py::test_y"  # type: ignore[arg-type]
    assert function_id(FakeItem("tests/x.py::Case::test_y")) == "tests/x.py::Case::test_y"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("phases", "expected"),
    [
        ([("setup", "passed"), ("call", "passed"), ("teardown", "passed")], "passed"),
        ([("setup", "passed"), ("call", "failed"), ("teardown", "passed")], "failed"),
        ([("setup", "failed"), ("teardown", "passed")], "failed"),
        ([("setup", "passed"), ("call", "passed"), ("teardown", "failed")], "failed"),
        ([("setup", "skipped"), ("teardown", "passed")], "skipped"),
        # pytest reports an expected failure (xfail) as a skipped call
        ([("setup", "passed"), ("call", "skipped"), ("teardown", "passed")], "skipped"),
        ([("setup", "passed"), ("call", "skipped"), ("teardown", "failed")], "failed"),
    ],
)
def test_record_folds_the_phases_of_one_run_into_one_outcome(
    phases: list[tuple[str, str]], expected: Outcome
) -> None:
    # given the phase reports of one run / when recorded in order
    outcomes: dict[str, Outcome] = {}
    for when, outcome in phases:
        record(outcomes, "tests/x.py::test_y[sqlite]", when, outcome)

    # then
    assert outcomes == {"tests/x.py::test_y[sqlite]": expected}


def test_record_ignores_a_run_that_only_set_up() -> None:
    outcomes: dict[str, Outcome] = {}

    record(outcomes, "tests/x.py::test_y", "setup", "passed")

    assert outcomes == {}


def test_tally_counts_runs_per_story_and_tests_per_function() -> None:
    # given test_a cites US-01 and runs on three backends (one skipped), test_b cites US-01 and
    # US-03 and fails on one backend, and nothing cites US-02
    citations = {
        "t.py::test_a[sqlite]": Citation("t.py::test_a", ("US-01",)),
        "t.py::test_a[postgresql]": Citation("t.py::test_a", ("US-01",)),
        "t.py::test_a[mysql]": Citation("t.py::test_a", ("US-01",)),
        "t.py::test_b[sqlite]": Citation("t.py::test_b", ("US-01", "US-03")),
        "t.py::test_b[mysql]": Citation("t.py::test_b", ("US-01", "US-03")),
    }
    outcomes: dict[str, Outcome] = {
        "t.py::test_a[sqlite]": "passed",
        "t.py::test_a[postgresql]": "passed",
        "t.py::test_a[mysql]": "skipped",
        "t.py::test_b[sqlite]": "passed",
        "t.py::test_b[mysql]": "failed",
    }

    # when
    rows, unknown = tally(STORIES, citations, outcomes)

    # then
    assert [(row.story, len(row.tests), row.passed, row.failed, row.skipped) for row in rows] == [
        ("US-01", 2, 3, 1, 1),
        ("US-02", 0, 0, 0, 0),
        ("US-03", 1, 1, 1, 0),
    ]
    assert [row.verdict for row in rows] == ["failing", "none", "failing"]
    assert unknown == {}


def test_tally_counts_a_story_named_twice_by_one_test_once() -> None:
    citations = {"t.py::test_a": Citation("t.py::test_a", ("US-01", "US-01"))}

    rows, _ = tally(STORIES, citations, {"t.py::test_a": "passed"})

    assert (rows[0].passed, len(rows[0].tests)) == (1, 1)


def test_tally_reports_unknown_story_ids_with_their_tests() -> None:
    citations = {
        "t.py::test_a": Citation("t.py::test_a", ("US-01", "US-99")),
        "t.py::test_b": Citation("t.py::test_b", ("US-1",)),
        "t.py::test_c": Citation("t.py::test_c", ("US-99",)),
    }

    rows, unknown = tally(STORIES, citations, {"t.py::test_a": "passed"})

    assert unknown == {"US-99": ["t.py::test_a", "t.py::test_c"], "US-1": ["t.py::test_b"]}
    assert (rows[0].story, rows[0].passed, rows[0].verdict) == ("US-01", 1, "proven")


def test_a_test_that_did_not_run_is_cited_but_counts_no_run() -> None:
    # given a collected test whose session stopped before it ran (e.g. pytest -x)
    citations = {"t.py::test_a": Citation("t.py::test_a", ("US-01",))}

    rows, _ = tally(STORIES, citations, {})

    assert (len(rows[0].tests), rows[0].passed, rows[0].skipped, rows[0].verdict) == (
        1,
        0,
        0,
        "unproven",
    )


@pytest.mark.parametrize(
    ("tests", "passed", "failed", "skipped", "verdict"),
    [
        (set(), 0, 0, 0, "none"),
        ({"t.py::a"}, 2, 0, 0, "proven"),
        ({"t.py::a"}, 1, 0, 2, "proven"),  # skipped on two backends, passed on the third
        ({"t.py::a"}, 0, 0, 3, "unproven"),  # skipped everywhere proves nothing
        ({"t.py::a"}, 2, 1, 0, "failing"),
        ({"t.py::a"}, 0, 1, 2, "failing"),
    ],
)
def test_verdict(tests: set[str], passed: int, failed: int, skipped: int, verdict: str) -> None:
    row = StoryRow("US-01", "Register", tests, passed, failed, skipped)

    assert row.verdict == verdict


def test_render_prints_a_markdown_table_a_summary_and_errors() -> None:
    # given one row of each verdict and one unknown id
    rows = [
        StoryRow("US-01", "Register an account", {"t.py::a", "t.py::b"}, 5, 0, 1),
        StoryRow("US-02", "Verify my email | address", {"t.py::c"}, 2, 1, 0),
        StoryRow("US-03", "Sign in and sign out", {"t.py::d"}, 0, 0, 3),
        StoryRow("US-04", "Reset a forgotten password"),
    ]

    # when
    text = render(rows, {"US-99": ["t.py::z[sqlite]", "t.py::y"]})

    # then
    assert text.splitlines() == [
        "| Story | Title | Tests | Passed | Failed | Skipped | Verdict |",
        "|---|---|---:|---:|---:|---:|---|",
        "| US-01 | Register an account | 2 | 5 | 0 | 1 | proven |",
        "| US-02 | Verify my email \\| address | 1 | 2 | 1 | 0 | failing |",
        "| US-03 | Sign in and sign out | 1 | 0 | 0 | 3 | unproven |",
        "| US-04 | Reset a forgotten password | 0 | 0 | 0 | 0 | none |",
        "",
        "4 stories: 1 proven, 1 failing, 1 unproven, 1 none",
        "error: unknown story US-99 (not in docs/requirements.md) cited by t.py::y, "
        "t.py::z[sqlite]",
    ]


def test_render_without_unknown_stories_ends_with_the_summary() -> None:
    text = render([StoryRow("US-01", "Register", {"t.py::a"}, 1, 0, 0)], {})

    assert text.splitlines()[-1] == "1 stories: 1 proven, 0 failing, 0 unproven, 0 none"


def test_the_project_requirements_parse_into_consecutive_story_ids() -> None:
    # given the real requirements document (parsed only; no test suite is run)
    stories = parse_stories((REPOSITORY / "docs" / "requirements.md").read_text(encoding="utf-8"))

    # then its ids are US-01.. without gaps
    assert list(stories) == [f"US-{number:02d}" for number in range(1, len(stories) + 1)]


SAMPLE_TESTS = """\
import pytest

@pytest.mark.story("US-01")
@pytest.mark.parametrize("backend", ["sqlite", "mysql"])
def test_register(backend):
    if backend == "mysql":
        pytest.skip("mysql is not reachable")

@pytest.mark.story("US-03")
def test_sign_in():
    assert 1 + 1 == 3

@pytest.mark.story("US-42")
def test_unknown():
    pass
"""


def run_report(directory: Path, tests_source: str) -> subprocess.CompletedProcess[str]:
    """Run the report in its own process on a tiny suite of its own (not the project's)."""
    (directory / "test_sample.py").write_text(tests_source)
    (directory / "requirements.md").write_text(REQUIREMENTS)
    (directory / "pytest.ini").write_text("[pytest]\nmarkers =\n    story(id): a user story\n")
    script = (
        "import sys; from pathlib import Path; from tests.support.stories import main; "
        "sys.exit(main(sys.argv[2:], requirements=Path(sys.argv[1])))"
    )
    return subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(directory / "requirements.md"),
            "-q",
            "-p",
            "no:cacheprovider",
            "-c",
            str(directory / "pytest.ini"),
            "--rootdir",
            str(directory),
            str(directory),
        ],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_main_runs_pytest_with_the_collector_and_prints_the_table(tmp_path: Path) -> None:
    # given a suite with a test skipped on one backend, a failing test and an unknown story

    # when
    result = run_report(tmp_path, SAMPLE_TESTS)

    # then pytest's failure is the exit code and the table closes the output
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[-7:] == [
        "|---|---|---:|---:|---:|---:|---|",
        "| US-01 | Register an account | 1 | 1 | 0 | 1 | proven |",
        "| US-02 | Verify my email \\| address | 0 | 0 | 0 | 0 | none |",
        "| US-03 | Sign in and sign out | 1 | 0 | 1 | 0 | failing |",
        "",
        "3 stories: 1 proven, 1 failing, 0 unproven, 1 none",
        "error: unknown story US-42 (not in docs/requirements.md) cited by "
        "test_sample.py::test_unknown",
    ]


def test_main_fails_on_an_unknown_story_even_when_every_test_passes(tmp_path: Path) -> None:
    # given a passing test that cites a story the document lacks
    source = 'import pytest\n\n@pytest.mark.story("US-42")\ndef test_unknown():\n    pass\n'

    # when
    result = run_report(tmp_path, source)

    # then
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[-2:] == [
        "3 stories: 0 proven, 0 failing, 0 unproven, 3 none",
        "error: unknown story US-42 (not in docs/requirements.md) cited by "
        "test_sample.py::test_unknown",
    ]


def test_main_passes_when_every_cited_story_exists(tmp_path: Path) -> None:
    source = 'import pytest\n\n@pytest.mark.story("US-02")\ndef test_verify():\n    pass\n'

    result = run_report(tmp_path, source)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "3 stories: 1 proven, 0 failing, 0 unproven, 2 none"
