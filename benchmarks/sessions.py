"""Many browser sessions at once against one server process.

For each number of sessions: the time until every page has drawn the anomaly
view, the server's memory before, with the pages open and after they close
(once the server has dropped the sessions), then after a second round of as
many pages (memory of closed pages is reused, not added to), and how often
each artifact was read from the store. Writes the "Concurrent sessions"
section of docs/performance.md.

    python -m benchmarks.sessions --sessions 1 5 10 25 --runs 3
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks.machine import describe
from benchmarks.perf_doc import markdown_table, write_section
from benchmarks.served import CHROMIUM, CHROMIUM_ARGS, rss_megabytes, served_app
from demo.build_store import build_demo_store

RENDER_TIMEOUT_MS = 300_000
# Bokeh drops a session 15 s after its page closes and looks every 17 s; on a
# loaded machine the drops themselves take a while. The server then releases
# the freed memory 8 s after the last drop of a burst.
DROP_TIMEOUT_SECONDS = 150.0
READ_LINE = re.compile(r"read object=(\S+) bytes=")
DROPPED_LINE = re.compile(r"page session closed sessions=")
RELEASED_LINE = re.compile(r"memory of closed pages released rss_mb_before=\S+ "
                           r"rss_mb_after=(\S+) python_blocks=(\d+)")


@dataclass(frozen=True)
class Released:
    """The server's memory once it has released what closed pages held."""

    rss_mb: float
    python_blocks: int
    """Python's count of its live memory blocks: whether objects are gone."""


def open_sessions(browser, url: str, count: int) -> tuple[float, list]:
    """Open ``count`` pages at once; seconds until all drew the anomaly view."""
    started = time.perf_counter()
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000})
                for _ in range(count)]
    pages = [context.new_page() for context in contexts]
    for page in pages:
        page.goto(url, wait_until="commit")
    for page in pages:
        page.locator(".alert-counts").first.wait_for(state="attached",
                                                     timeout=RENDER_TIMEOUT_MS)
    return time.perf_counter() - started, contexts


def dropped_sessions(log: Path) -> int:
    """How many page sessions the server has dropped so far."""
    return len(DROPPED_LINE.findall(log.read_text()))


def wait_until_released(log: Path, total: int, pid: int,
                        timeout: float = DROP_TIMEOUT_SECONDS) -> Released:
    """Wait until the server has dropped ``total`` page sessions since it
    started and released their memory; its memory then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text()
        drops = list(DROPPED_LINE.finditer(text))
        releases = list(RELEASED_LINE.finditer(text))
        if (len(drops) >= total and releases
                and releases[-1].start() > drops[-1].start()):
            return Released(rss_megabytes(pid), int(releases[-1].group(2)))
        time.sleep(0.5)
    raise TimeoutError(f"the server dropped {dropped_sessions(log)} of {total} "
                       f"page sessions and released their memory in "
                       f"{timeout:.0f} s")


def close_all(contexts: list) -> None:
    for context in contexts:
        context.close()


def reads_per_object(log: Path) -> Counter:
    return Counter(READ_LINE.findall(log.read_text()))


def measure(browser, store: Path, count: int, folder: Path) -> dict:
    env = {"SOC_COPILOT_STORE": str(store), "SOC_COPILOT_REFRESH_SECONDS": "0"}
    log = folder / f"server-{count}.log"
    with served_app(env, log) as (url, process):
        warm_seconds, warm = open_sessions(browser, url, 1)
        close_all(warm)
        idle = wait_until_released(log, 1, process.pid)
        seconds, contexts = open_sessions(browser, url, count)
        loaded = rss_megabytes(process.pid)
        close_all(contexts)
        after = wait_until_released(log, 1 + count, process.pid)
        _seconds, contexts = open_sessions(browser, url, count)
        close_all(contexts)
        again = wait_until_released(log, 1 + 2 * count, process.pid)
        reads = reads_per_object(log)
    return {"sessions": count, "seconds": seconds, "idle": idle.rss_mb,
            "loaded": loaded, "after": after.rss_mb, "again": again.rss_mb,
            "per_session": (loaded - idle.rss_mb) / count,
            "blocks_left": after.python_blocks / idle.python_blocks - 1,
            "most_reads": max(reads.values()), "objects": len(reads),
            "warm": warm_seconds}


def summarise(runs: list[dict]) -> dict:
    keys = ("seconds", "idle", "loaded", "after", "again", "per_session",
            "blocks_left")
    summary = {key: statistics.median(run[key] for run in runs) for key in keys}
    summary.update(sessions=runs[0]["sessions"],
                   most_reads=max(run["most_reads"] for run in runs),
                   objects=runs[0]["objects"])
    return summary


def table(rows: list[dict]) -> str:
    header = ["sessions", "all drawn (s)", "RSS idle (MB)", "RSS open (MB)",
              "MB per session", "RSS after close (MB)",
              "RSS after a second round (MB)",
              "Python blocks left after close", "reads per object"]
    return markdown_table(header, [[
        str(row["sessions"]), f"{row['seconds']:.1f}", f"{row['idle']:.0f}",
        f"{row['loaded']:.0f}", f"{row['per_session']:.1f}", f"{row['after']:.0f}",
        f"{row['again']:.0f}", f"{100 * row['blocks_left']:+.1f}%",
        f"{row['most_reads']} ({row['objects']} objects)"]
        for row in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 5, 10, 25])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="soc-copilot-sessions-"))
    store = build_demo_store(folder / "store")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=CHROMIUM_ARGS)
        version = browser.version
        rows = [summarise([measure(browser, store, count, folder)
                           for _ in range(args.runs)]) for count in args.sessions]
        browser.close()
    text = table(rows)
    print(text)
    if not args.no_doc:
        machine = describe(version)
        body = (
            f"`make bench` (`python -m benchmarks.sessions`) on {machine}: "
            f"one server process over the demo store, N pages opened at once "
            f"in one headless Chromium; medians of {args.runs} runs. RSS idle "
            f"is after one page was drawn and closed; after close is once the "
            f"server has dropped the closed pages' sessions (it logs each) "
            f"and released their memory; after a second round is the same "
            f"after N more pages opened and closed. Python blocks left is "
            f"Python's count of its live memory blocks after close against "
            f"idle: the closed pages' objects are gone when it is near "
            f"0%.\n\n{text}")
        write_section("Concurrent sessions", body, machine)


if __name__ == "__main__":
    main()
