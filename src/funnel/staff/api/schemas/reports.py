"""The reports: the days (and grouping) asked for, and the figures of the funnel, the sales and
the products sold."""

from __future__ import annotations

import marshmallow as ma

from funnel.analytics.models import FunnelStage
from funnel.core.api import MoneyField
from funnel.core.api.paging import cursor_parameter, next_cursor_field
from funnel.reports.buckets import Grouping
from funnel.reports.splits import FunnelOf, Split
from funnel.staff.api.schemas.fields import DAY_RANGE, page_limit


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


class FunnelReportQuerySchema(FunnelQuerySchema):
    split = ma.fields.Enum(
        Split,
        by_value=True,
        metadata={
            "description": "Also split the funnel into groups of visitors by the first visit's "
            "`source`, `medium`, `campaign`, `landing_page` or `device`"
        },
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


class SplitGroupSchema(ma.Schema):
    group = ma.fields.String(
        required=True,
        metadata={"description": "The value; `(not recorded)`, or `Other` for the smaller groups"},
    )
    visitors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        required=True,
        metadata={"description": "Distinct visitors per stage (every stage named)"},
    )
    conversion = _percent("The group's paying visitors over its visitors")


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
    split = ma.fields.Enum(Split, by_value=True, required=True, allow_none=True)
    groups = ma.fields.List(
        ma.fields.Nested(SplitGroupSchema),
        required=True,
        metadata={
            "description": "With `split`: each visitor in the group of their first visit in the "
            "period (the groups add up to the whole), most visitors first, the 20th on as "
            "`Other`; empty without `split`"
        },
    )


class FunnelDaySchema(ma.Schema):
    day = ma.fields.Date(required=True, metadata={"description": "A shop day"})
    visitors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        required=True,
        metadata={"description": "Distinct visitors per stage that day (every stage named)"},
    )


class FunnelDaysReportSchema(ma.Schema):
    first_day = ma.fields.Date(data_key="from", required=True)
    last_day = ma.fields.Date(data_key="to", required=True)
    time_zone = ma.fields.String(
        required=True, metadata={"description": "The shop's time zone, whose days these are"}
    )
    days = ma.fields.List(
        ma.fields.Nested(FunnelDaySchema),
        required=True,
        metadata={"description": "Every day of the period in order, days without visitors too"},
    )


class SalesQuerySchema(FunnelQuerySchema):
    grouping = ma.fields.Enum(
        Grouping,
        by_value=True,
        data_key="by",
        load_default=Grouping.DAY,
        metadata={"description": "Rows by `day` (default), `week` (Monday to Sunday) or `month`"},
    )


class SalesFiguresSchema(ma.Schema):
    orders = ma.fields.Integer(required=True, metadata={"description": "Orders paid in full"})
    units = ma.fields.Integer(required=True, metadata={"description": "Units in those orders"})
    gross = MoneyField(
        required=True, metadata={"description": "Their totals: lines, shipping, tax"}
    )
    shipping = MoneyField(required=True, metadata={"description": "Of which shipping"})
    tax = MoneyField(required=True, metadata={"description": "Of which tax"})
    refunds = MoneyField(required=True, metadata={"description": "Money given back then"})
    net = MoneyField(required=True, metadata={"description": "Gross less refunds"})
    average_order = MoneyField(
        required=True,
        allow_none=True,
        metadata={"description": "Gross over orders, rounded half up (null: no order)"},
    )
    new_customers = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Customers (order emails) whose first order ever was paid then; in "
            "`total`, in the period"
        },
    )
    returning_customers = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Customers who paid then after an earlier paid order (in `total`: "
            "one paid before the period)"
        },
    )


class SalesRowSchema(SalesFiguresSchema):
    first_day = ma.fields.Date(data_key="from", required=True)
    last_day = ma.fields.Date(data_key="to", required=True)


class CurrencySalesSchema(ma.Schema):
    currency = ma.fields.String(required=True, metadata={"description": "ISO 4217 code"})
    rows = ma.fields.List(
        ma.fields.Nested(SalesRowSchema),
        required=True,
        metadata={"description": "Every day, week or month of the period in order, zeros too"},
    )
    total = ma.fields.Nested(SalesFiguresSchema, required=True)


class SalesReportSchema(ma.Schema):
    first_day = ma.fields.Date(data_key="from", required=True)
    last_day = ma.fields.Date(data_key="to", required=True)
    grouping = ma.fields.Enum(Grouping, by_value=True, data_key="by", required=True)
    time_zone = ma.fields.String(
        required=True, metadata={"description": "The shop's time zone, whose days these are"}
    )
    currencies = ma.fields.List(
        ma.fields.Nested(CurrencySalesSchema),
        required=True,
        metadata={"description": "Each currency sold or refunded in (the shop's when none)"},
    )


class VariantSalesSchema(ma.Schema):
    variant = ma.fields.String(required=True, metadata={"description": "As sold on the order"})
    sku = ma.fields.String(required=True)
    units = ma.fields.Integer(required=True)
    revenue = MoneyField(required=True, metadata={"description": "The lines' totals"})


class ProductSalesSchema(ma.Schema):
    product_id = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "null: the product is deleted"}
    )
    title = ma.fields.String(required=True)
    units = ma.fields.Integer(required=True)
    revenue = MoneyField(required=True, metadata={"description": "The lines' totals (no shipping)"})
    variants = ma.fields.List(ma.fields.Nested(VariantSalesSchema), required=True)
    viewers = ma.fields.Integer(
        required=True, metadata={"description": "Distinct visitors who viewed the product"}
    )
    buyers_who_viewed = ma.fields.Integer(
        required=True, metadata={"description": "Of those, how many paid for an order with it"}
    )
    conversion = _percent("buyers_who_viewed over viewers (null: no viewer)")


class ProductReportSchema(ma.Schema):
    first_day = ma.fields.Date(data_key="from", required=True)
    last_day = ma.fields.Date(data_key="to", required=True)
    time_zone = ma.fields.String(required=True)
    products = ma.fields.List(
        ma.fields.Nested(ProductSalesSchema),
        required=True,
        metadata={"description": "Every product sold or viewed, most revenue first"},
    )


class ProductFunnelQuerySchema(FunnelQuerySchema):
    of = ma.fields.Enum(
        FunnelOf,
        by_value=True,
        load_default=FunnelOf.PRODUCT,
        metadata={"description": "The funnel of each `product` (default) or `category`"},
    )
    limit = page_limit()
    cursor = cursor_parameter()


class ProductFunnelLineSchema(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"description": "The product's or category's"})
    name = ma.fields.String(required=True, metadata={"description": "Its title or name"})
    viewers = ma.fields.Integer(
        required=True, metadata={"description": "Distinct visitors who viewed it"}
    )
    adders = ma.fields.Integer(
        required=True, metadata={"description": "Distinct visitors who added it to a cart"}
    )
    checkout_visitors = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Distinct visitors who started a checkout holding it (the lines of "
            "the order it became, else its cart's)"
        },
    )
    buyers = ma.fields.Integer(
        required=True, metadata={"description": "Distinct visitors who paid for an order with it"}
    )
    paid_units = ma.fields.Integer(
        required=True, metadata={"description": "Its units in those orders"}
    )
    conversion = _percent("buyers over viewers (null: no viewer)")


class ProductFunnelPageSchema(ma.Schema):
    first_day = ma.fields.Date(data_key="from", required=True)
    last_day = ma.fields.Date(data_key="to", required=True)
    time_zone = ma.fields.String(required=True)
    of = ma.fields.Enum(FunnelOf, by_value=True, required=True)
    items = ma.fields.List(
        ma.fields.Nested(ProductFunnelLineSchema),
        required=True,
        metadata={"description": "Most viewers first, then most units paid, then by name"},
    )
    next_cursor = next_cursor_field()


class PaymentMethodAttemptsSchema(ma.Schema):
    method = ma.fields.String(
        required=True, metadata={"description": "The gateway's name (`test`, `manual`, `cod` ...)"}
    )
    label = ma.fields.String(required=True, metadata={"description": "What staff call it"})
    attempts = ma.fields.Integer(
        required=True, metadata={"description": "Payments started with it in the period"}
    )
    paid = ma.fields.Integer(
        required=True, metadata={"description": "Of those, paid (refunded since included)"}
    )
    failed = ma.fields.Integer(required=True)
    cancelled = ma.fields.Integer(required=True)
    still_open = ma.fields.Integer(
        required=True, metadata={"description": "Waiting for the shopper, the bank or staff"}
    )
    failure_rate = _percent("failed over attempts")


class PaymentMethodsReportSchema(ma.Schema):
    first_day = ma.fields.Date(data_key="from", required=True)
    last_day = ma.fields.Date(data_key="to", required=True)
    time_zone = ma.fields.String(required=True)
    methods = ma.fields.List(
        ma.fields.Nested(PaymentMethodAttemptsSchema),
        required=True,
        metadata={"description": "Every method with an attempt, most attempts first"},
    )
