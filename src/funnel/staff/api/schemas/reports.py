"""The reports: the funnel's days asked for, and the funnel's figures."""

from __future__ import annotations

import marshmallow as ma

from funnel.analytics.models import FunnelStage
from funnel.staff.api.schemas.fields import DAY_RANGE


class FunnelQuerySchema(ma.Schema):
    first_day = ma.fields.Date(
        data_key="from",
        validate=DAY_RANGE,
        metadata={"description": "The first shop day (default: 29 days before `to`)"},
    )
    last_day = ma.fields.Date(
        data_key="to",
        validate=DAY_RANGE,
        metadata={"description": "The last shop day, included (default: the shop's today)"},
    )


def _percent(description: str) -> ma.fields.Float:
    return ma.fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": f"{description}, in percent rounded to one decimal"},
    )


class FunnelStageSchema(ma.Schema):
    stage = ma.fields.Enum(FunnelStage, by_value=True, required=True)
    label = ma.fields.String(required=True)
    visitors = ma.fields.Integer(
        required=True, metadata={"description": "Distinct visitors who reached the stage"}
    )
    conversion_from_start = _percent("Share of the first stage's visitors")
    conversion_from_previous = _percent("Share of the previous stage's (null: the first stage)")
    drop_off = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The previous stage's visitors less this one's (null: first)"},
    )
    drop_off_rate = _percent("Share of the previous stage's visitors who did not reach it")
    previous_visitors = ma.fields.Integer(
        required=True, metadata={"description": "The same count over the period before"}
    )
    change = ma.fields.Integer(required=True, metadata={"description": "visitors less previous"})
    change_rate = _percent("The change as a share of the previous period's (null: it had none)")


class FunnelReportSchema(ma.Schema):
    first_day = ma.fields.Date(data_key="from", required=True)
    last_day = ma.fields.Date(data_key="to", required=True)
    days = ma.fields.Integer(required=True)
    time_zone = ma.fields.String(
        required=True, metadata={"description": "The shop's time zone, whose days these are"}
    )
    previous_from = ma.fields.Date(required=True)
    previous_to = ma.fields.Date(required=True)
    stages = ma.fields.List(
        ma.fields.Nested(FunnelStageSchema),
        required=True,
        metadata={"description": "Every stage in funnel order"},
    )
