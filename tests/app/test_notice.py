"""The operator's data notice (the demo cites IoT-23 with it) shows as text."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NOTICE = "Demo data: <b>IoT-23</b> (Stratosphere Laboratory, CTU Prague)"


@pytest.fixture
def served_app(app_servers, s3_env, uploaded_buckets):
    return app_servers.serve({**s3_env, "SOC_COPILOT_NOTICE": NOTICE})


def test_notice_is_shown_in_the_sidebar_as_plain_text(page, served_app):
    page.goto(served_app.url)
    notice = page.locator(".data-notice")
    expect(notice).to_contain_text(NOTICE, timeout=45_000)
    assert notice.locator("b").count() == 0
