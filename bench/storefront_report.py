"""The tables and chart of ``bench.storefront``: one section of ``bench/results.md`` per
database, and a PNG of each page's p50 latency against the catalogue size."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.pages import RESULTS, write_section

LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
TARGET_SCALING = 1.5


@dataclass(frozen=True)
class Page:
    """A page to load, and the bare route doing its minimum work."""

    name: str
    path: str
    bare_path: str


@dataclass(frozen=True)
class Load:
    """One wrk run: requests/s, latency percentiles (ms), and errors (non-2xx and socket)."""

    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int


@dataclass(frozen=True)
class Row:
    """One page, one visitor kind, one catalogue size."""

    size: int
    page: Page
    visitor: str
    load: Load
    bare: Load
    statements: int


def quotient(numerator: float, denominator: float, digits: int) -> str:
    """``numerator / denominator``, or a dash where nothing was answered to divide by."""
    return f"{numerator / denominator:.{digits}f}" if denominator else "—"


def chart_path(database: str, kept_seconds: int) -> Path:
    rendered = "" if kept_seconds else "-rendered"
    return RESULTS.with_name(f"storefront-{database}{rendered}.png")


def title(database: str, kept_seconds: int) -> str:
    """The section's title: pages kept as a deployed shop keeps them, or all rendered."""
    rendered = "" if kept_seconds else ", no page kept for unknown visitors"
    return f"Storefront against bare Flask, {LABELS[database]}{rendered}"


def main_table(rows: list[Row]) -> list[str]:
    head = (
        "| products | page | visitor | req/s | bare req/s | ratio | p50 ms | p95 ms | p99 ms "
        "| errors | SQL statements |"
    )
    lines = [head, "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        load, bare = row.load, row.bare
        ratio = quotient(load.requests_per_second, bare.requests_per_second, 3)
        lines.append(
            f"| {row.size:,} | {row.page.name} (`{row.page.path}` vs `{row.page.bare_path}`) "
            f"| {row.visitor} | {load.requests_per_second:,.0f} | {bare.requests_per_second:,.0f} "
            f"| {ratio} | {load.p50_ms:.1f} "
            f"| {load.p95_ms:.1f} | {load.p99_ms:.1f} | {load.errors} | {row.statements} |"
        )
    return lines


def scaling_table(rows: list[Row]) -> list[str]:
    """Per page and visitor: p50 and statements at the smallest and largest size."""
    sizes = sorted({row.size for row in rows})
    small, large = sizes[0], sizes[-1]
    by_key = {(row.size, row.page.name, row.visitor): row for row in rows}
    lines = [
        f"| page | visitor | p50 ms at {small:,} | p50 ms at {large:,} | {large:,}/{small:,} "
        f"| ratio to bare at {small:,} / {large:,} | statements at {small:,} / {large:,} |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        if row.size != small:
            continue
        high = by_key[(large, row.page.name, row.visitor)]
        low_ratio = quotient(row.load.requests_per_second, row.bare.requests_per_second, 3)
        high_ratio = quotient(high.load.requests_per_second, high.bare.requests_per_second, 3)
        scaling = quotient(high.load.p50_ms, row.load.p50_ms, 2)
        lines.append(
            f"| {row.page.name} | {row.visitor} | {row.load.p50_ms:.1f} | {high.load.p50_ms:.1f} "
            f"| {scaling} | {low_ratio} / {high_ratio} "
            f"| {row.statements} / {high.statements} |"
        )
    return lines


def memory_table(memory: dict[int, dict[str, list[float]]]) -> list[str]:
    lines = [
        "| products | Funnel workers, MB RSS | bare Flask workers, MB RSS |",
        "| ---: | ---: | ---: |",
    ]
    for size, kinds in sorted(memory.items()):
        cells = [" / ".join(f"{mb:.0f}" for mb in kinds[kind]) for kind in ("Funnel", "bare")]
        lines.append(f"| {size:,} | {cells[0]} | {cells[1]} |")
    return lines


def draw_chart(database: str, rows: list[Row], kept_seconds: int) -> Path:
    """p50 against catalogue size: one line per page and visitor, and the bare routes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    sizes = sorted({row.size for row in rows})
    figure, axes = pyplot.subplots(figsize=(9, 5.5), dpi=100)
    names = list(dict.fromkeys(row.page.name for row in rows))
    colours = pyplot.get_cmap("tab10")
    for index, name in enumerate(names):
        for visitor, style in (("anonymous", "-"), ("counted", "--"), ("signed in", ":")):
            points = [  # a page that answered nothing has no point (NaN) on the log scale
                next(
                    (
                        r.load.p50_ms or math.nan
                        for r in rows
                        if (r.size, r.page.name, r.visitor) == key
                    ),
                    math.nan,
                )
                for key in ((size, name, visitor) for size in sizes)
            ]
            if all(math.isnan(point) for point in points):
                continue  # an API call is not read signed in
            label = f"{name} ({visitor})"
            axes.plot(sizes, points, style, marker="o", color=colours(index), label=label)
    for bare_path, style in (("/list", (0, (1, 3))), ("/one-query", "-.")):
        points = [
            statistics.median(
                r.bare.p50_ms for r in rows if r.size == size and r.page.bare_path == bare_path
            )
            for size in sizes
        ]
        axes.plot(
            sizes,
            points,
            linestyle=style,
            marker="s",
            color="black",
            label=f"bare Flask {bare_path}",
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks(sizes, [f"{size:,}" for size in sizes])
    axes.set_xticks([], minor=True)
    axes.set_xlabel("demo products in the catalogue")
    axes.set_ylabel("p50 latency, ms (wrk, 32 connections)")
    axes.set_title(title(database, kept_seconds).replace("against bare Flask", "p50 latency"))
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="x-small", ncol=2)
    figure.tight_layout()
    path = chart_path(database, kept_seconds)
    figure.savefig(path)
    pyplot.close(figure)
    return path


def write_report(
    database: str,
    rows: list[Row],
    memory: dict[int, dict[str, list[float]]],
    *,
    command: str,
    versions: str,
    database_version: str,
    load_average: float,
    minutes: float,
    kept_seconds: int,
) -> None:
    """The section "Storefront against bare Flask, <database>" and its chart."""
    chart = draw_chart(database, rows, kept_seconds)
    today = datetime.now(UTC).date().isoformat()
    lines = [
        f"# {title(database, kept_seconds)}",
        "",
        f"`{command}` on {today}: {versions}, {database_version}.",
        f"Load average {load_average:.2f} when the run began; it took {minutes:.1f} minutes.",
        "",
        "Each page is served by gunicorn (2 sync workers) beside the bare Flask app of",
        "`bench/hello.py` (the same settings and database) and loaded by wrk (2 threads)",
        "alternated with its matching bare route (bare, anonymous, bare, counted, bare, signed",
        "in, bare; each against the mean of the bare runs around it): `/list` (one query, the 24",
        "newest products templated) for listings, `/one-query` (one primary-key query) for one",
        "product. Anonymous: a tool, not counted in the funnel; counted: a browser's User-Agent",
        "and a visitor cookie (product views written in batches, the default); signed in: the",
        "demo customer signed in through the form, with the session cookie (the storefront's",
        "pages; no page is kept for a signed-in shopper). Pages every unknown",
        f"visitor sees alike kept {kept_seconds} s per worker (FUNNEL_PAGE_CACHE_SECONDS, US-75;",
        "2 is the default; 0: none kept; a listing's HTML is kept per catalogue version either",
        "way, US-11). PostgreSQL is analysed",
        "after the load, as autovacuum would soon do. Ratio: the page's req/s",
        "over its bare route's; errors: non-2xx answers and socket errors (wrk waits 30 s for an",
        "answer); SQL statements: one request of a warm worker rendering the page (a page kept "
        "for unknown visitors, US-75, runs none), counted in process. Targets",
        f"(issue 14): ratio at least {TARGET_RATIO}, p99 under {TARGET_P99_MS:.0f} ms, p50 at the",
        f"largest size within {TARGET_SCALING}x of the smallest, the same statements at every",
        "size, workers at most 100 MB. Raw figures depend on the machine and its load; the ratios",
        "less.",
        "",
        *main_table(rows),
        "",
        *([*scaling_table(rows), ""] if len({row.size for row in rows}) > 1 else []),
        "Workers' memory after the run (each gunicorn worker):",
        "",
        *memory_table(memory),
        "",
        f"![p50 latency against catalogue size, {LABELS[database]}]({chart.name})",
    ]
    write_section(lines)
    print("\n".join(lines))
