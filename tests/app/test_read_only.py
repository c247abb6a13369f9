"""A whole analyst session, with every request the S3 server receives recorded
by a loopback proxy: the app only lists and reads, and no credential shows in
any page, message, probe answer or log line."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.app.loopback import get
from tests.app.ui import (
    PAGE_TEXT,
    download_alerts,
    open_dashboard,
    set_threshold,
    show_tab,
)
from tests.conftest import ACCESS_KEY, SECRET_KEY
from tests.faults import FaultProxy

pytestmark = pytest.mark.browser

READ_OPERATIONS = {"ListObjectsV2", "GetObject", "HeadObject", "HeadBucket"}


@pytest.fixture
def recorded_store(store_server, upstream_bucket_objects):
    store_server.start()
    store_server.upload(upstream_bucket_objects)
    proxy = FaultProxy(store_server.port)
    yield proxy
    proxy.close()


def choose(page, selector_index: int, option_index: int) -> None:
    """Pick an option of one of the sidebar's selects (events, model)."""
    page.locator("select").nth(selector_index).select_option(index=option_index)


def analyst_session(page, app) -> list[str]:
    """Everything an analyst does in a sitting; the page's text at each step."""
    texts = []
    open_dashboard(page, app)
    texts.append(page.evaluate(PAGE_TEXT))
    set_threshold(page, 0.05)
    download_alerts(page)
    choose(page, 0, 1)          # an older events table
    expect(page.locator(".events-source").first).to_contain_text("20181222_065000")
    choose(page, 1, 1)          # an older model scores it
    expect(page.locator(".events-source").first).to_contain_text(
        "not the latest model")
    texts.append(page.evaluate(PAGE_TEXT))
    for tab in ("Evaluation", "Models", "Anomalies"):
        show_tab(page, tab)
        page.wait_for_timeout(500)
        texts.append(page.evaluate(PAGE_TEXT))
    page.get_by_role("button", name="Refresh now").click()
    page.wait_for_timeout(1000)
    texts.append(page.content())
    return texts


def test_a_whole_session_only_reads_and_never_shows_a_key(
        recorded_store, launch, pages):
    app = launch(recorded_store.endpoint, SOC_COPILOT_LOG_LEVEL="DEBUG")
    page = pages(app)
    frames: list = []
    page.on("websocket", lambda socket: socket.on(
        "framereceived", lambda frame: frames.append(frame)))

    shown = analyst_session(page, app)

    operations = [seen.operation for seen in recorded_store.requests]
    assert {"ListObjectsV2", "GetObject"} <= set(operations)
    assert set(operations) <= READ_OPERATIONS, operations
    assert all(seen.is_read for seen in recorded_store.requests)
    # Two silver tables and two models were shown: each was read once.
    reads = [seen.target for seen in recorded_store.requests
             if seen.operation == "GetObject"]
    assert len(reads) == len(set(reads)) >= 5

    shown += [get(f"{app.url}{route}")[1].decode() for route in ("readyz", "healthz")]
    shown += [frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
              for frame in frames]
    shown.append(app.log.read_text())
    for credential in (SECRET_KEY, ACCESS_KEY):
        assert not [text for text in shown if credential in text]
