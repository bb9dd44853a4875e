"""What a page reports that a user would not see."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PageProblems:
    """What a page reported that a user would not see: console errors, uncaught exceptions,
    failed requests and requests to any other host than the shop."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
