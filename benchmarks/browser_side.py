"""The served app in headless Chromium: first render and memory per session.

One ``soc-copilot serve`` process reads the table once (the first page, on a
cold server); then each further page is a new browser session, kept open, so
the server's resident memory grows by what one more session costs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks.page_load import COUNT_CANVASES
from benchmarks.served import CHROMIUM, CHROMIUM_ARGS, rss_megabytes, served_app

# The anomaly view is drawn when its counts are attached and its five plots
# (histogram, timeline, scatter, top sources, top destinations) have canvases.
DRAWN_MARKER, DRAWN_CANVASES = ".alert-counts", 5
VIEWPORT = {"width": 1400, "height": 1000}
# Lets the server finish the session's last callbacks before memory is read.
SETTLE_SECONDS = 2.0


@dataclass(frozen=True)
class BrowserResult:
    """Seconds to the drawn anomaly view and the server's memory in MB."""

    cold_page: float
    """First page on a fresh server: includes reading the table."""
    first_render: list[float]
    """Each later page, the table already loaded."""
    rss_idle: float
    rss_loaded: float
    """After the first page."""
    rss_per_session: list[float]
    """Growth with each later page, all sessions kept open."""


def measure(env: dict[str, str], runs: int, log_path: Path,
            timeout_s: float) -> BrowserResult:
    """Serve the app on ``env`` and open ``1 + runs`` pages, one after another."""
    with served_app(env, log_path) as (url, process), \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=CHROMIUM_ARGS)
        try:
            return _sessions(browser, url, process.pid, runs, timeout_s)
        finally:
            browser.close()


def chromium_version() -> str:
    """The version of the Chromium the measurements drive."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=CHROMIUM_ARGS)
        version = browser.version
        browser.close()
    return version


def _sessions(browser, url: str, pid: int, runs: int,
              timeout_s: float) -> BrowserResult:
    idle = rss_megabytes(pid)
    contexts = []
    try:
        cold = _open_page(browser, url, contexts, timeout_s)
        loaded = _settled_rss(pid)
        renders, growth, previous = [], [], loaded
        for _ in range(runs):
            renders.append(_open_page(browser, url, contexts, timeout_s))
            current = _settled_rss(pid)
            growth.append(current - previous)
            previous = current
    finally:
        for context in contexts:
            context.close()
    return BrowserResult(cold, renders, idle, loaded, growth)


def _open_page(browser, url: str, contexts: list, timeout_s: float) -> float:
    """Seconds from navigation to the anomaly view drawn; the page stays open."""
    context = browser.new_context(viewport=VIEWPORT)
    contexts.append(context)
    page = context.new_page()
    timeout_ms = timeout_s * 1000
    started = time.perf_counter()
    page.goto(url, timeout=timeout_ms)
    page.locator(DRAWN_MARKER).first.wait_for(state="attached", timeout=timeout_ms)
    page.wait_for_function(COUNT_CANVASES, arg=DRAWN_CANVASES, timeout=timeout_ms)
    return time.perf_counter() - started


def _settled_rss(pid: int) -> float:
    time.sleep(SETTLE_SECONDS)
    return rss_megabytes(pid)
