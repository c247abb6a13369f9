"""Twenty-five analysts open the dashboard at once against one server process:
every page draws, each artifact is read from the store once, and the server's
memory grows by a bounded amount per page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from benchmarks.served import rss_megabytes
from benchmarks.sessions import reads_per_object
from tests.app.conftest import VIEWPORT, PageWatch

pytestmark = pytest.mark.browser

SESSIONS = 25
# On the 2-core CI machine 25 pages draw in about 2 to 3 minutes.
DRAW_TIMEOUT_MS = 420_000
# Measured 6 MB per page on the demo data; the bound leaves room for noise
# while catching a page that keeps its own copy of the events (~30 MB).
MB_PER_SESSION = 20


def test_twenty_five_sessions_draw_and_share_one_read_per_artifact(
        browser, served_app, page):
    page.goto(served_app.url)
    expect(page.locator(".alert-counts").first).to_be_attached(timeout=60_000)
    before = rss_megabytes(served_app.process.pid)

    watches, contexts = [], []
    for _ in range(SESSIONS):
        context = browser.new_context(viewport=VIEWPORT)
        watch = PageWatch(served_app.host)
        context.route("**/*", watch.guard)
        session = context.new_page()
        watch.attach(session)
        session.goto(served_app.url, wait_until="commit")
        watches.append(watch)
        contexts.append((context, session))
    for _context, session in contexts:
        expect(session.locator(".alert-counts").first).to_be_attached(
            timeout=DRAW_TIMEOUT_MS)
    opened = rss_megabytes(served_app.process.pid)
    # Taken before closing: closing aborts whatever a page is still fetching.
    problems = [problem for watch in watches for problem in watch.problems()]
    for context, _session in contexts:
        context.close()

    assert not problems
    reads = reads_per_object(served_app.log)
    assert reads and set(reads.values()) == {1}, reads
    assert (opened - before) / SESSIONS < MB_PER_SESSION
