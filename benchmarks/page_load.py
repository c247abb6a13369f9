"""Time from opening the page to all three views drawn, on the demo store.

Serves the demo store, opens the page in headless Chromium once to warm the
server, then RUNS more times in fresh browser contexts, and reports the median
and the server's resident memory after load.

    python -m benchmarks.page_load [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks.served import CHROMIUM, CHROMIUM_ARGS, rss_megabytes, served_app
from demo.build_store import build_demo_store

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = build_demo_store(Path(folder) / "store")
        env = {"SOC_COPILOT_STORE": str(store), "SOC_COPILOT_REFRESH_SECONDS": "0"}
        with served_app(env, Path(folder) / "serve.log") as (url, process), \
                sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                 args=CHROMIUM_ARGS)
            idle = rss_megabytes(process.pid)
            warm = time_page(browser, url)
            runs = [time_page(browser, url) for _ in range(args.runs)]
            rss = rss_megabytes(process.pid)
            browser.close()
    print(f"first page on a cold server, all three views: {warm[1]:.2f} s")
    for label, times in (("anomaly view drawn", [r[0] for r in runs]),
                         ("all three views drawn", [r[1] for r in runs])):
        print(f"page to {label}: median {statistics.median(times):.2f} s "
              f"(min {min(times):.2f}, max {max(times):.2f}, runs {len(times)})")
    print(f"server RSS: idle {idle:.0f} MB, after {args.runs + 1} sessions "
          f"{rss:.0f} MB")


if __name__ == "__main__":
    main()
