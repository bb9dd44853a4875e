"""The funnel's figures from its counts: conversion, drop-off and change, per stage.

Pure: plain functions of their inputs. Rates are exact fractions (``Fraction``); ``percent``
rounds one for display (half up). A rate over no visitors is ``None`` (shown as a dash), never
a division by zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from funnel.analytics.models import FunnelStage

# What the report calls each stage.
STAGE_LABELS = {
    FunnelStage.VISIT: "Visited the shop",
    FunnelStage.PRODUCT_VIEW: "Viewed a product",
    FunnelStage.ADD_TO_CART: "Added to cart",
    FunnelStage.CHECKOUT_STARTED: "Started checkout",
    FunnelStage.PAYMENT_ATTEMPTED: "Tried to pay",
    FunnelStage.ORDER_PAID: "Paid an order",
}


def rate(part: int, whole: int) -> Fraction | None:
    """``part / whole`` exactly; None when ``whole`` is 0."""
    return Fraction(part, whole) if whole else None


def percent(fraction: Fraction | None, places: int = 1) -> Decimal | None:
    """The fraction in percent, rounded half up to ``places`` decimals (None stays None)."""
    if fraction is None:
        return None
    exact = Decimal(fraction.numerator * 100) / Decimal(fraction.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class StageFigures:
    """One stage of the funnel over a period, against the period before."""

    stage: FunnelStage
    label: str
    visitors: int
    # Share of the first stage's visitors who reached this one (1 for the first stage).
    conversion_from_start: Fraction | None
    # Share of the previous stage's visitors (None for the first stage).
    conversion_from_previous: Fraction | None
    # Visitors of the previous stage who did not reach this one (None for the first stage);
    # may be negative when visitors reach a stage without the one before in the same period.
    drop_off: int | None
    drop_off_rate: Fraction | None
    previous_visitors: int
    change: int
    # The change as a share of the previous period's visitors (None when it had none).
    change_rate: Fraction | None


def funnel_figures(
    counts: dict[FunnelStage, int], previous_counts: dict[FunnelStage, int]
) -> tuple[StageFigures, ...]:
    """Every stage's figures, in funnel order, from distinct visitors per stage in the period
    (``counts``) and in the period before (``previous_counts``); a stage missing counts 0."""
    figures: list[StageFigures] = []
    first = counts.get(FunnelStage.VISIT, 0)
    before: int | None = None
    for stage in FunnelStage:
        visitors = counts.get(stage, 0)
        earlier = previous_counts.get(stage, 0)
        from_previous = None if before is None else rate(visitors, before)
        figures.append(
            StageFigures(
                stage=stage,
                label=STAGE_LABELS[stage],
                visitors=visitors,
                conversion_from_start=rate(visitors, first),
                conversion_from_previous=from_previous,
                drop_off=None if before is None else before - visitors,
                drop_off_rate=None if from_previous is None else 1 - from_previous,
                previous_visitors=earlier,
                change=visitors - earlier,
                change_rate=rate(visitors - earlier, earlier),
            )
        )
        before = visitors
    return tuple(figures)
