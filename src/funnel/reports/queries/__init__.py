"""Reading the reports: the sales funnel (``funnel_report``), sales over time
(``sales_report``) and what each product sold (``product_report``), over whole shop days."""

from funnel.reports.queries.funnel import FunnelReport, funnel_report
from funnel.reports.queries.products import ProductReport, product_report
from funnel.reports.queries.sales import SalesReport, sales_report

__all__ = [
    "FunnelReport",
    "ProductReport",
    "SalesReport",
    "funnel_report",
    "product_report",
    "sales_report",
]
