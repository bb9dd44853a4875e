"""Reading the reports: the sales funnel (``funnel_report``) and its stages day by day
(``funnel_days_report``), sales over time (``sales_report``), what each product sold
(``product_report``), each product's or category's own funnel (``product_funnel_report``) and
how each payment method's attempts ended (``payment_methods_report``), over whole shop days; and
the staff dashboard's headline figures (``headlines``)."""

from funnel.reports.queries.funnel import FunnelReport, funnel_report
from funnel.reports.queries.funnel_days import FunnelDaysReport, funnel_days_report
from funnel.reports.queries.headlines import Headlines, headlines
from funnel.reports.queries.payment_methods import PaymentMethodsReport, payment_methods_report
from funnel.reports.queries.product_funnel import ProductFunnelReport, product_funnel_report
from funnel.reports.queries.products import ProductReport, product_report
from funnel.reports.queries.sales import SalesReport, sales_report

__all__ = [
    "FunnelDaysReport",
    "FunnelReport",
    "Headlines",
    "PaymentMethodsReport",
    "ProductFunnelReport",
    "ProductReport",
    "SalesReport",
    "funnel_days_report",
    "funnel_report",
    "headlines",
    "payment_methods_report",
    "product_funnel_report",
    "product_report",
    "sales_report",
]
