"""US-39 and US-64 in a browser: the report pages draw their charts with the shop's own Chart.js
(no request elsewhere, no script error, nothing the page's Content-Security-Policy refuses),
from the same figures as the tables under them."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.problems import PageProblems
from tests.e2e.test_staff_accessibility import sign_in_as_admin

pytestmark = [pytest.mark.e2e, pytest.mark.story("US-39", "US-64")]


def drawn(page: Page, canvas_id: str) -> dict:
    """What Chart.js drew on the canvas: its type, labels and datasets' values."""
    page.wait_for_function(f"document.getElementById('{canvas_id}').chart !== undefined")
    return page.evaluate(
        f"""() => {{
            const chart = document.getElementById('{canvas_id}').chart;
            return {{
                type: chart.config.type,
                labels: chart.data.labels,
                datasets: chart.data.datasets.map(d => ({{label: d.label, data: d.data}})),
                width: chart.width,
            }};
        }}"""
    )


def test_the_sales_and_funnel_pages_draw_their_charts(
    page: Page, page_problems: PageProblems
) -> None:
    sign_in_as_admin(page)

    page.goto("/staff/reports/sales?by=week")
    sales = drawn(page, "sales-chart-1")
    rows = page.get_by_role("table").first.locator("tbody tr").count()

    assert sales["type"] == "bar"
    assert len(sales["labels"]) == rows  # a bar per row of the table
    assert [dataset["label"] for dataset in sales["datasets"]][2] == "Orders paid"
    assert sales["width"] > 0

    page.goto("/staff/reports/funnel")
    funnel = drawn(page, "funnel-chart")

    assert funnel["labels"][0].startswith("Visited the shop")
    assert [dataset["label"] for dataset in funnel["datasets"]] == [
        "These days",
        "The days before",
    ]
    assert len(funnel["datasets"][0]["data"]) == 6

    days = drawn(page, "funnel-days-chart")
    day_rows = page.get_by_role("table", name="The funnel day by day").locator("tbody tr").count()

    assert days["type"] == "line"
    assert len(days["labels"]) == day_rows == 30  # the last 30 days, a point per row
    assert [dataset["label"] for dataset in days["datasets"]][::5] == [
        "Visited the shop",
        "Paid an order",
    ]
    assert page_problems.console_errors == []
    assert page_problems.page_errors == []
    assert page_problems.failed_requests == []
    assert page_problems.foreign_requests == []
