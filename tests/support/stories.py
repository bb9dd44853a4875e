"""``make stories``: run the tests, then print which user stories they prove.

Acceptance tests cite the stories of ``docs/requirements.md`` with ``@pytest.mark.story("US-NN")``
(one marker may name several ids; several markers may be stacked). This module runs pytest
in-process with a small plugin that records the outcome of every run of every citing test (a test
that uses the ``app`` fixture runs once per database backend), then prints one Markdown table row
per story of the document:

- **proven**: at least one test cites it, at least one run passed and none failed;
- **failing**: a run failed (in its setup, call or teardown);
- **unproven**: tests cite it but every run was skipped (a skip proves nothing);
- **none**: no test cites it.

Usage: ``python -m tests.support.stories [pytest arguments...]``. The exit code is pytest's,
made non-zero when a test cites a story id the document does not define.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

Outcome = Literal["passed", "failed", "skipped"]
Verdict = Literal["proven", "failing", "unproven", "none"]
VERDICTS: tuple[Verdict, ...] = ("proven", "failing", "unproven", "none")

REQUIREMENTS = Path(__file__).resolve().parents[2] / "docs" / "requirements.md"
_HEADING = re.compile(r"^###\s+(US-\d{2})\s+(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Citation:
    """One collected test run (a pytest item) and the stories it cites.

    ``test`` names the test function without its parameters, so that the runs of one test on
    several backends count as one test.
    """

    test: str
    stories: tuple[str, ...]


@dataclass
class StoryRow:
    """What the suite says about one story."""

    story: str
    title: str
    tests: set[str] = field(default_factory=set)
    passed: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def verdict(self) -> Verdict:
        if not self.tests:
            return "none"
        if self.failed:
            return "failing"
        return "proven" if self.passed else "unproven"


def parse_stories(markdown: str) -> dict[str, str]:
    """Map each story id to its title, in document order, from ``### US-NN Title`` headings.

    Raises ValueError when an id is defined twice (ids are never reused).
    """
    stories: dict[str, str] = {}
    for match in _HEADING.finditer(markdown):
        story, title = match.groups()
        if story in stories:
            raise ValueError(f"{story} is defined twice in the requirements")
        stories[story] = title
    return stories


def tally(
    stories: Mapping[str, str],
    citations: Mapping[str, Citation],
    outcomes: Mapping[str, Outcome],
) -> tuple[list[StoryRow], dict[str, list[str]]]:
    """Count the runs of the tests citing each story.

    ``citations`` and ``outcomes`` are keyed by pytest node id; a collected run without an
    outcome (the session stopped early) counts as nothing. Returns the rows in document order
    and the unknown story ids, each with the node ids citing it.
    """
    rows = {story: StoryRow(story, title) for story, title in stories.items()}
    unknown: dict[str, list[str]] = {}
    for node_id, citation in citations.items():
        outcome = outcomes.get(node_id)
        for story in dict.fromkeys(citation.stories):
            row = rows.get(story)
            if row is None:
                unknown.setdefault(story, []).append(node_id)
                continue
            row.tests.add(citation.test)
            if outcome is not None:
                setattr(row, outcome, getattr(row, outcome) + 1)
    return list(rows.values()), unknown


def render(rows: Sequence[StoryRow], unknown: Mapping[str, Sequence[str]]) -> str:
    """The Markdown table, a summary line and one error line per unknown story id."""
    lines = [
        "| Story | Title | Tests | Passed | Failed | Skipped | Verdict |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        title = row.title.replace("|", "\\|")
        lines.append(
            f"| {row.story} | {title} | {len(row.tests)} | {row.passed} | {row.failed} "
            f"| {row.skipped} | {row.verdict} |"
        )
    counts = Counter(row.verdict for row in rows)
    lines.append("")
    lines.append(
        f"{len(rows)} stories: " + ", ".join(f"{counts[verdict]} {verdict}" for verdict in VERDICTS)
    )
    for story, node_ids in sorted(unknown.items()):
        lines.append(
            f"error: unknown story {story} (not in docs/requirements.md) cited by "
            + ", ".join(sorted(node_ids))
        )
    return "\n".join(lines)


MISSING_ID = "(no id)"


def story_ids(item: pytest.Item) -> tuple[str, ...]:
    """Every id the item's ``story`` markers name (from the function, class or module); a
    marker naming none yields ``MISSING_ID``, which no document defines."""
    return tuple(
        str(story)
        for marker in item.iter_markers("story")
        for story in (marker.args or (MISSING_ID,))
    )


def function_id(item: pytest.Item) -> str:
    """The node id without parameters: ``tests/x.py::test_y[sqlite]`` -> ``tests/x.py::test_y``."""
    return item.nodeid.split("[", 1)[0]


class StoryCollector:
    """pytest plugin: records the citing items once collected, then the outcome of each run."""

    def __init__(self) -> None:
        self.citations: dict[str, Citation] = {}
        self.outcomes: dict[str, Outcome] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # session.items is the final list, after -k / -m deselection.
        for item in session.items:
            stories = story_ids(item)
            if stories:
                self.citations[item.nodeid] = Citation(function_id(item), stories)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record(self.outcomes, report.nodeid, report.when, report.outcome)


def record(outcomes: dict[str, Outcome], node_id: str, when: str | None, outcome: str) -> None:
    """Fold one phase report into the run's outcome: any failed phase (setup, call, teardown)
    fails the run; a skip (including an expected failure) in setup or call skips it; the call
    passing passes it."""
    if outcome == "failed":
        outcomes[node_id] = "failed"
    elif outcomes.get(node_id) != "failed" and when in ("setup", "call") and outcome == "skipped":
        outcomes[node_id] = "skipped"
    elif outcomes.get(node_id) is None and when == "call" and outcome == "passed":
        outcomes[node_id] = "passed"


def main(arguments: Iterable[str] = (), requirements: Path = REQUIREMENTS) -> int:
    """Run pytest with ``arguments``, print the story table, return the exit code."""
    stories = parse_stories(requirements.read_text(encoding="utf-8"))
    collector = StoryCollector()
    exit_code = int(pytest.main(list(arguments), plugins=[collector]))
    rows, unknown = tally(stories, collector.citations, collector.outcomes)
    print()
    print(render(rows, unknown))
    if unknown and exit_code == 0:
        return 1
    return exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
