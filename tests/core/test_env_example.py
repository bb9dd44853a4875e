"""`.env.example` lists every setting the shop reads, each under a comment that explains it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READ = re.compile(r"read\.(?:text|integer|boolean|url|choice|origins)\(\s*\"([A-Z_]+)\"")


@pytest.mark.story("US-47")
def test_every_setting_is_in_the_example_with_a_comment() -> None:
    # given the variables the config package reads and the example file's lines
    sources = sorted((ROOT / "src" / "funnel" / "config").glob("*.py"))
    read = {name for path in sources for name in READ.findall(path.read_text(encoding="utf-8"))}
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    listed = {line.split("=", 1)[0]: index for index, line in enumerate(lines) if "=" in line}

    # then each is listed, with a comment above it (a setting may share its group's comment)
    assert len(read) >= 55
    missing = sorted(f"FUNNEL_{name}" for name in read if f"FUNNEL_{name}" not in listed)
    assert missing == []
    uncommented = []
    for name in read:
        index = listed[f"FUNNEL_{name}"]
        while index > 0 and lines[index - 1].startswith("FUNNEL_"):
            index -= 1
        if index == 0 or not lines[index - 1].startswith("#"):
            uncommented.append(f"FUNNEL_{name}")
    assert uncommented == []
    assert "FUNNEL_CSRF_ENABLED" in listed
