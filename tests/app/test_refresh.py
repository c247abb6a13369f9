"""New artifacts appear without a restart: the pipeline writes, the page follows."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from demo.build_store import BUCKETS

pytestmark = pytest.mark.browser

NEW_MODEL = "model_isoforest_20190105_000000.pkl"


def test_refresh_shows_a_model_written_after_the_page_opened(
        page, served_app, s3_client, uploaded_buckets):
    models = uploaded_buckets[BUCKETS["models"]]
    page.goto(served_app.url)
    expect(page.locator(".alert-counts").first).to_be_attached(timeout=45_000)
    expect(page.locator(".store-status")).to_contain_text(f"models: {len(models)}")

    newest = models[max(models)]
    s3_client.put_object(Bucket=BUCKETS["models"], Key=NEW_MODEL, Body=newest)
    page.get_by_role("button", name="Refresh now").click()

    expect(page.locator(".store-status")).to_contain_text(
        f"models: {len(models) + 1}")
    # The page followed the newest run, so the new model is the selected one.
    expect(page.locator("select").filter(has_text=NEW_MODEL).first).to_have_value(
        NEW_MODEL)
    expect(page.locator(".events-source")).to_contain_text(NEW_MODEL)
