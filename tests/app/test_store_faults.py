"""The served app while the store fails: the page still comes quickly, a banner
says what is wrong, /healthz stays 200, /readyz says 503 with the reason, and
the app recovers by itself when the store comes back.

Each test has its own S3 server (stopped and started again as the test needs)
and, where the store must be slow, a loopback proxy in front of it.
"""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect

from tests.app.loopback import get
from tests.app.ui import PAGE_TEXT, indicator, open_dashboard
from tests.faults import FaultProxy

pytestmark = pytest.mark.browser

# The page (template and status area) must not wait for the store.
PAGE_SECONDS = 8.0
# /healthz answers from the event loop, whatever the store does.
HEALTH_SECONDS = 1.0
RECOVERY_MS = 30_000
# The newest run's model flags 1,677 of the sample's 17,318 events; the
# browser tests of the dashboard work this number out from the bytes.
ALERTS_AT_DEFAULT = "1,677"


def probe(app, route: str) -> tuple[int, dict, float]:
    started = time.monotonic()
    status, body = get(f"{app.url}{route}", timeout=10)
    return status, json.loads(body), time.monotonic() - started


def banner(page):
    return page.locator(".store-banner")


def open_page_quickly(page, app) -> None:
    started = time.monotonic()
    page.goto(app.url)
    expect(page.locator(".store-status")).to_be_attached()
    assert time.monotonic() - started < PAGE_SECONDS


def assert_alive_not_ready(app, reason: str) -> None:
    status, body, seconds = probe(app, "healthz")
    assert (status, body) == (200, {"status": "alive"})
    assert seconds < HEALTH_SECONDS
    status, body, _seconds = probe(app, "readyz")
    assert status == 503
    assert reason in body["reason"]


def assert_ready(app) -> None:
    status, body, _seconds = probe(app, "readyz")
    assert (status, body["status"]) == (200, "ready")


def test_store_down_at_start_then_back(pages, launch, store_server,
                                       upstream_bucket_objects):
    app = launch(f"127.0.0.1:{store_server.port}")
    page = pages(app)

    open_page_quickly(page, app)
    expect(banner(page)).to_contain_text("Cannot list bucket 'cybersec-ml-models'")
    assert_alive_not_ready(app, "cybersec-ml-models")

    store_server.start()
    store_server.upload(upstream_bucket_objects)

    expect(page.locator(".alert-counts").first).to_be_attached(timeout=RECOVERY_MS)
    expect(banner(page)).to_have_count(0)
    assert_ready(app)


def test_store_lost_mid_session_keeps_the_data_and_recovers(
        pages, launch, store_server, upstream_bucket_objects):
    store_server.start()
    store_server.upload(upstream_bucket_objects)
    app = launch(f"127.0.0.1:{store_server.port}")
    page = pages(app)
    open_dashboard(page, app)
    alerts = indicator(page, "Alerts")
    expect(alerts).to_have_text(ALERTS_AT_DEFAULT)

    store_server.stop()
    page.get_by_role("button", name="Refresh now").click()

    expect(banner(page)).to_contain_text("showing what the store held at")
    expect(alerts).to_have_text(ALERTS_AT_DEFAULT)
    assert_alive_not_ready(app, "Cannot list bucket")

    store_server.start()
    store_server.upload(upstream_bucket_objects)

    expect(banner(page)).to_have_count(0, timeout=RECOVERY_MS)
    expect(alerts).to_have_text(ALERTS_AT_DEFAULT)
    assert_ready(app)


def test_silent_store_does_not_hold_the_page_or_the_probes(
        pages, launch, store_server, upstream_bucket_objects):
    store_server.start()
    store_server.upload(upstream_bucket_objects)
    proxy = FaultProxy(store_server.port)
    proxy.mode = "hold"
    try:
        app = launch(proxy.endpoint)
        page = pages(app)

        open_page_quickly(page, app)
        assert_alive_not_ready(app, "did not answer within 4 s")
        expect(banner(page)).to_contain_text("Read timeout", timeout=RECOVERY_MS)

        proxy.mode = "pass"
        expect(page.locator(".alert-counts").first).to_be_attached(
            timeout=RECOVERY_MS)
        expect(banner(page)).to_have_count(0)
        assert_ready(app)
    finally:
        proxy.close()


def test_wrong_credentials_are_named_and_never_shown(
        pages, launch, store_server, upstream_bucket_objects):
    store_server.start()
    store_server.upload(upstream_bucket_objects)
    store_server.require_credentials()
    wrong_access, wrong_secret = "WRONGACCESSKEY123", "wrong-secret-planted-0451"
    app = launch(f"127.0.0.1:{store_server.port}", MINIO_ACCESS_KEY=wrong_access,
                 MINIO_SECRET_KEY=wrong_secret)
    page = pages(app)

    open_page_quickly(page, app)
    expect(banner(page)).to_contain_text("the store refused these credentials")
    assert_alive_not_ready(app, "Access Key Id you provided does not exist")

    shown = [page.evaluate(PAGE_TEXT), page.content(),
             get(f"{app.url}readyz")[1].decode(), app.log.read_text()]
    for text in shown:
        assert wrong_secret not in text
        assert wrong_access not in text


def test_a_silent_read_holds_neither_the_page_nor_the_probes(
        pages, launch, store_server, upstream_bucket_objects):
    store_server.start()
    store_server.upload(upstream_bucket_objects)
    proxy = FaultProxy(store_server.port)
    try:
        app = launch(proxy.endpoint)
        page = pages(app)
        open_dashboard(page, app)
        proxy.hold_objects = True

        page.locator("select").first.select_option(index=1)
        expect(page.locator(".events-loading")).to_be_attached()
        status, _body, seconds = probe(app, "healthz")
        assert status == 200 and seconds < HEALTH_SECONDS
        # The read gives up within its time-outs and tries; the page names
        # the object (the HTTP client's own pool waits add to the bound).
        expect(page.get_by_text("Cannot read 'cybersec-ml-silver/").first
               ).to_be_attached(timeout=2 * RECOVERY_MS)

        proxy.hold_objects = False
        page.locator("select").first.select_option(index=2)
        expect(page.locator(".events-source").first).to_contain_text(
            "20181221_225000", timeout=RECOVERY_MS)
    finally:
        proxy.close()
