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

# Something each view draws only once its data is in: the alert count, the
# evaluation table, the model details; plus the plots' canvases.
VIEW_MARKERS = (".alert-counts", ".evaluation-runs", ".model-details")
MIN_CANVASES = 5


def time_page(browser, url: str) -> float:
    """Seconds from navigation to every view's marker and the plots drawn."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url)
    for marker in VIEW_MARKERS:
        page.locator(marker).first.wait_for(state="attached", timeout=60_000)
    page.wait_for_function(
        f"document.querySelectorAll('*').length && "
        f"(() => {{ let n = 0; const walk = (root) => {{"
        f" n += root.querySelectorAll('canvas').length;"
        f" root.querySelectorAll('*').forEach(e => e.shadowRoot && walk(e.shadowRoot));"
        f" }}; walk(document); return n >= {MIN_CANVASES}; }})()",
        timeout=60_000)
    elapsed = time.perf_counter() - started
    context.close()
    return elapsed


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
            warm = time_page(browser, url)
            times = [time_page(browser, url) for _ in range(args.runs)]
            rss = rss_megabytes(process.pid)
            browser.close()
    print(f"first page (cold server): {warm:.2f} s")
    print(f"page to three views drawn: median {statistics.median(times):.2f} s "
          f"(min {min(times):.2f}, max {max(times):.2f}, runs {len(times)})")
    print(f"server RSS after {args.runs + 1} sessions: {rss:.0f} MB")


if __name__ == "__main__":
    main()
