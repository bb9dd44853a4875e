"""A funnel split into groups of visitors: by where they came from, their device or landing page.

Pure: plain functions of the counts. Each visitor is in one group (the first visit of the
period decides), so the groups' counts add up to the whole funnel's; the largest groups are
shown one by one and the rest together as "Other".
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from funnel.analytics.models import FunnelStage
from funnel.reports.conversion import rate

SHOWN_GROUPS = 20
NOT_RECORDED = "(not recorded)"
OTHER = "Other"


class Split(enum.StrEnum):
    SOURCE = "source"
    MEDIUM = "medium"
    CAMPAIGN = "campaign"
    LANDING_PAGE = "landing_page"
    DEVICE = "device"


class FunnelOf(enum.StrEnum):
    """Whose own funnel the product funnel report shows: each product's or each category's."""

    PRODUCT = "product"
    CATEGORY = "category"


SPLIT_LABELS = {
    Split.SOURCE: "Source",
    Split.MEDIUM: "Medium",
    Split.CAMPAIGN: "Campaign",
    Split.LANDING_PAGE: "Landing page",
    Split.DEVICE: "Device",
}


@dataclass(frozen=True)
class SplitGroup:
    """One group's distinct visitors per stage, in funnel order."""

    label: str
    visitors: tuple[int, ...]
    is_other: bool = False

    @property
    def conversion(self) -> Fraction | None:
        """The group's paying visitors as a share of its first stage's."""
        return rate(self.visitors[-1], self.visitors[0])


def split_groups(
    counts: Mapping[str | None, Mapping[FunnelStage, int]], *, shown: int = SHOWN_GROUPS
) -> tuple[SplitGroup, ...]:
    """The groups, most first-stage visitors first (then by label); past ``shown``, the rest
    summed into one "Other" group. A group without a value is "(not recorded)"."""
    stages = tuple(FunnelStage)
    groups = [
        SplitGroup(
            label=NOT_RECORDED if value is None else value,
            visitors=tuple(stage_counts.get(stage, 0) for stage in stages),
        )
        for value, stage_counts in counts.items()
    ]
    groups.sort(key=lambda group: (-group.visitors[0], -sum(group.visitors), group.label))
    if len(groups) <= shown:
        return tuple(groups)
    rest = groups[shown - 1 :]
    other = SplitGroup(
        label=OTHER,
        visitors=tuple(
            sum(group.visitors[index] for group in rest) for index in range(len(stages))
        ),
        is_other=True,
    )
    return (*groups[: shown - 1], other)
