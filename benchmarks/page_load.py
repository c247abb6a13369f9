"""Time from opening the page to all three views drawn, on the demo store.

Serves the demo store, opens the page in headless Chromium once to warm the
server, then RUNS more times in fresh browser contexts, and reports the median
and the server's resident memory after load under "## Demo page" in
docs/performance.md.

    python -m benchmarks.page_load [--runs 5] [--no-doc]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks.machine import describe, load_average
from benchmarks.perf_doc import DOC, markdown_table, write_section
from benchmarks.served import CHROMIUM, CHROMIUM_ARGS, rss_megabytes, served_app
from demo.build_store import build_demo_store

SECTION = "Demo page"
# The demo store's three views drawn within this many seconds, median.
TARGET_SECONDS = 1.0

# Something each view draws only once its data is in, and how many plot
# canvases it shows by then: the anomaly view opens first, the
# other two are drawn when their tab is opened.
VIEWS = (("Anomalies", ".alert-counts", 5), ("Evaluation", ".evaluation-runs", 1),
         ("Models", ".model-details", 1))

COUNT_CANVASES = """(least) => { let n = 0; const walk = (root) => {
  n += root.querySelectorAll('canvas').length;
  root.querySelectorAll('*').forEach(e => e.shadowRoot && walk(e.shadowRoot)); };
  walk(document); return n >= least; }"""


def time_page(browser, url: str) -> tuple[float, float]:
    """Seconds from navigation to the first view drawn, and to all three."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url)
    marks = []
    for tab, marker, canvases in VIEWS:
        if marks:
            page.locator(f".bk-tab:text-is('{tab}')").click()
        page.locator(marker).first.wait_for(state="attached", timeout=60_000)
        page.wait_for_function(COUNT_CANVASES, arg=canvases, timeout=60_000)
        marks.append(time.perf_counter() - started)
    context.close()
    return marks[0], marks[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-doc", action="store_true",
                        help=f"print only; leave {DOC.name} alone")
    args = parser.parse_args(argv)
    result = measure(args.runs)
    machine = describe(result.chromium)
    body = report(result, machine)
    print(body)
    if not args.no_doc:
        print(f"written to {write_section(SECTION, body, machine)}")
    return 0


@dataclass(frozen=True)
class PageLoads:
    """Seconds to the views drawn on the demo store, and the server's memory."""

    cold: tuple[float, float]
    """First page on a fresh server: anomaly view, all three views."""
    runs: list[tuple[float, float]]
    """Each later page, the server warmed."""
    rss_idle: float
    rss_after: float
    chromium: str


def measure(runs: int) -> PageLoads:
    """Serve a fresh demo store and time ``1 + runs`` pages, one at a time."""
    with tempfile.TemporaryDirectory() as folder:
        store = build_demo_store(Path(folder) / "store")
        env = {"SOC_COPILOT_STORE": str(store), "SOC_COPILOT_REFRESH_SECONDS": "0"}
        with served_app(env, Path(folder) / "serve.log") as (url, process), \
                sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                 args=CHROMIUM_ARGS)
            try:
                idle = rss_megabytes(process.pid)
                cold = time_page(browser, url)
                timed = [time_page(browser, url) for _ in range(runs)]
                return PageLoads(cold, timed, idle, rss_megabytes(process.pid),
                                 browser.version)
            finally:
                browser.close()


def report(result: PageLoads, machine: str) -> str:
    """The section's Markdown: how it was measured, the figures, the target."""
    first = [run[0] for run in result.runs]
    every = [run[1] for run in result.runs]
    median = statistics.median(every)
    rows = [
        ["first page on a cold server, all three views (s)",
         f"{result.cold[1]:.2f}"],
        ["page to the anomaly view drawn (s)", _spread(first)],
        ["page to all three views drawn (s)", _spread(every)],
        ["server RSS idle, then after every page (MB)",
         f"{result.rss_idle:,.0f}, {result.rss_after:,.0f}"],
    ]
    verdict = "met" if median <= TARGET_SECONDS else "**not met**"
    return "\n\n".join([
        f"`make bench` (`python -m benchmarks.page_load --runs "
        f"{len(result.runs)}`) on {machine}; load average at the end "
        f"{load_average()}. One server over a fresh demo store (the real Zeek "
        "sample); one page on the cold server, then each page in a new browser "
        "context: from navigation to the anomaly view's counts and five plot "
        "canvases, then the Evaluation and Models tabs opened in turn and "
        "drawn.",
        markdown_table([f"{len(result.runs)} warm pages", "median (min to max)"],
                       rows),
        markdown_table(["target", "measured", ""], [[
            f"all three views drawn ≤ {TARGET_SECONDS:g} s (median, warm "
            "server)", f"{median:.2f} s", verdict]]),
    ])


def _spread(seconds: list[float]) -> str:
    return (f"{statistics.median(seconds):.2f} ({min(seconds):.2f} to "
            f"{max(seconds):.2f})")


if __name__ == "__main__":
    raise SystemExit(main())
