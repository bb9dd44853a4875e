"""Storefront throughput: each page under wrk, against the ceiling of a bare Flask app.

    python -m bench.pages [--products 10000] [--seconds 10] [--connections 32]

Builds a scratch SQLite shop with the demo catalogue, serves it with gunicorn (2 sync workers,
as the bare app), loads each page with wrk and writes ``bench/results.md``. Figures vary with
the machine: compare the ratios to the bare app, not the raw numbers.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.live_server import LiveServer, free_port

RESULTS = Path(__file__).with_name("results.md")
# Every bench serves the shop as a deployed one runs, not as a developer's: ``development``
# (the default) looks at the static folder on every page to fingerprint edited files.
# ``test`` is the nearest a bench can be to production, which refuses the test gateway.
# The test shop's environment renders every page afresh; a deployed one keeps the pages unknown
# visitors see alike for 2 seconds (the default).
SERVED_AS = {"FUNNEL_ENV": "test", "FUNNEL_PAGE_CACHE_SECONDS": "2"}


@dataclass
class Measure:
    name: str
    path: str
    requests_per_second: float
    latency_p50_ms: float
    latency_p99_ms: float
    errors: int


def _milliseconds(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(
    url: str, seconds: int, connections: int, headers: Mapping[str, str] | None = None
) -> tuple[float, float, float, int]:
    """Requests/s, p50 and p99 latency (ms) and non-2xx/3xx answers of ``url`` under wrk."""
    header_arguments = [f"-H{name}: {value}" for name, value in (headers or {}).items()]
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", *header_arguments, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _milliseconds(re.search(r"^\s*50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _milliseconds(re.search(r"^\s*99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    errors_match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return rate, p50, p99, int(errors_match.group(1)) if errors_match else 0


def serve_bare_flask(
    environment: Mapping[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """The bare Flask app of ``bench.hello`` under gunicorn with the shop's settings (2 sync
    workers); ``environment`` names its database (``BENCH_DATABASE_URL``)."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--no-control-socket",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "bench.hello:app",
        ],
        cwd=Path(__file__).parent.parent,
        env=dict(environment) if environment is not None else None,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return server, url
        except OSError:
            time.sleep(0.1)  # polling a starting server
    server.kill()
    raise RuntimeError("the bare Flask app did not start")


def measure_ceiling(seconds: int, connections: int) -> Measure:
    """The bare Flask app under the same load: what every page and operation is compared with."""
    bare, bare_url = serve_bare_flask()
    try:
        return Measure("bare Flask", "/", *run_wrk(bare_url, seconds, connections))
    finally:
        bare.terminate()
        bare.wait()


def sample_paths(base_url: str) -> dict[str, str]:
    """A real category, product and search word (also misspelt), read from the home page and
    category page."""
    home = urllib.request.urlopen(base_url + "/").read().decode()  # noqa: S310
    category = re.search(r'href="(/c/[^"]+)"', home).group(1)  # type: ignore[union-attr]
    listing = urllib.request.urlopen(base_url + category).read().decode()  # noqa: S310
    product = re.search(r'href="(/p/[^"]+)"', listing).group(1)  # type: ignore[union-attr]
    word = product.removeprefix("/p/").split("-")[0]
    # The same word with its last two letters swapped: a near miss that search corrects.
    misspelt = word[:-2] + word[-1] + word[-2] if len(word) >= 4 else word
    return {
        "home": "/",
        "category": category,
        "category, sorted by price": f"{category}?sort=price-asc",
        "product": product,
        "search": f"/search?q={word}",
        "search, misspelt": f"/search?q={misspelt}",
        "cart (empty)": "/cart",
    }


def write_results(products: int, ceiling: Measure, measures: list[Measure], args: str) -> None:
    lines = [
        "# Storefront throughput",
        "",
        f"`python -m bench.pages {args}`: SQLite, {products} demo products, gunicorn with 2 sync",
        "workers, wrk with 2 threads. The ratio compares each page with a bare Flask app served",
        "the same way (the ceiling); raw figures depend on the machine.",
        "",
        *result_table("page", ceiling, measures),
    ]
    write_section(lines)


def result_table(
    first_column: str,
    ceiling: Measure,
    measures: list[Measure],
    extra_column: tuple[str, Sequence[object]] | None = None,
    ratio_title: str = "vs bare Flask",
) -> list[str]:
    """Markdown rows: the ceiling first, then each measure with its ratio to the ceiling.

    ``extra_column`` (a title and one value per measure) is added on the right.
    """
    head = [first_column, "path", "req/s", ratio_title, "p50 ms", "p99 ms", "non-2xx"]
    rows = [
        [
            m.name,
            f"`{m.path}`",
            f"{m.requests_per_second:,.0f}",
            f"{m.requests_per_second / ceiling.requests_per_second:.1%}",
            f"{m.latency_p50_ms:.1f}",
            f"{m.latency_p99_ms:.1f}",
            str(m.errors),
        ]
        for m in [ceiling, *measures]
    ]
    if extra_column:
        title, values = extra_column
        head.append(title)
        for row, value in zip(rows, ["", *values], strict=True):
            row.append(str(value))
    rule = ["---", "---", *["---:"] * (len(head) - 2)]
    return ["| " + " | ".join(cells) + " |" for cells in [head, rule, *rows]]


def write_section(lines: list[str]) -> None:
    """Replace, in ``bench/results.md``, the section with the same ``# `` title as ``lines``.

    Each benchmark owns one top-level section of the file, so running one of them keeps the
    others' latest figures; a section not there yet is appended.
    """
    title = lines[0]
    sections: list[list[str]] = []
    for line in RESULTS.read_text().splitlines() if RESULTS.exists() else []:
        if line.startswith("# ") or not sections:
            sections.append([])
        sections[-1].append(line)
    sections = [section for section in sections if any(text.strip() for text in section)]
    kept = [lines if section[0] == title else section for section in sections]
    if not any(section[0] == title for section in sections):
        kept.append(lines)
    blocks = ["\n".join(section).strip("\n") for section in kept]
    RESULTS.write_text("\n\n".join(blocks) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: make bench installs it")

    with tempfile.TemporaryDirectory(prefix="funnel-bench-") as scratch:
        ceiling = measure_ceiling(options.seconds, options.connections)
        shop = LiveServer(
            Path(scratch), demo_products=options.products, workers=2, settings=SERVED_AS
        )
        shop.start()
        try:
            measures = [
                Measure(
                    name, path, *run_wrk(shop.base_url + path, options.seconds, options.connections)
                )
                for name, path in sample_paths(shop.base_url).items()
            ]
        finally:
            shop.stop()
    args = f"--products {options.products} --seconds {options.seconds}"
    write_results(options.products, ceiling, measures, args)
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
