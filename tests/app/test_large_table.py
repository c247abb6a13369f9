"""A table above the raster limit is drawn as server-side images in Chromium,
and the analyst's moves still redraw it without a browser error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import expect

from components.views.anomalies import AnomalyView
from demo.build_store import build_demo_store
from tests.app.ui import LOAD_TIMEOUT_MS, indicator, set_threshold

pytestmark = pytest.mark.browser

SCORES_BUCKET = "cybersec-ml-scores"
EVENTS = AnomalyView.param["raster_above"].default + 10_000
# Every canvas in the page, shadow roots included.
CANVASES = """() => { let n = 0; const walk = (root) => {
  n += root.querySelectorAll('canvas').length;
  root.querySelectorAll('*').forEach(e => e.shadowRoot && walk(e.shadowRoot)); };
  walk(document); return n; }"""


@pytest.fixture(scope="module")
def large_store(tmp_path_factory):
    store = build_demo_store(tmp_path_factory.mktemp("large") / "store")
    rng = np.random.default_rng(11)
    scores = store / SCORES_BUCKET
    scores.mkdir()
    table = pd.DataFrame({
        "timestamp": pd.Timestamp("2018-12-22", tz="UTC")
        + pd.to_timedelta(rng.integers(0, 86_400, EVENTS), unit="s"),
        "src_ip": rng.choice([f"10.0.{i}.1" for i in range(40)], EVENTS),
        "dest_ip": rng.choice([f"192.0.2.{i}" for i in range(200)], EVENTS),
        "ml_score": rng.beta(2, 8, EVENTS), "action": "allow",
    })
    table.to_parquet(scores / "scores_20250101_000000.parquet", index=False)
    return store, table


def test_large_table_draws_as_images_and_follows_the_threshold(
        app_servers, pages, large_store):
    store, table = large_store
    app = app_servers.serve({"SOC_COPILOT_STORE": str(store),
                             "SCORES_BUCKET": SCORES_BUCKET})
    page = pages(app)
    page.goto(app.url)
    expect(indicator(page, "Events")).to_have_text(f"{EVENTS:,}",
                                                   timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(f"() => ({CANVASES})() >= 5")

    threshold = 0.5
    set_threshold(page, threshold)
    alerts = int((table["ml_score"] >= threshold).sum())
    expect(indicator(page, "Alerts")).to_have_text(f"{alerts:,}")
    expect(page.locator(".alerts-heading h3")).to_contain_text(
        f"risk ≥ {threshold:.4f}: {alerts:,}")
    # The redrawn alert image arrives after the counts; give it a moment, so
    # a browser error while drawing it fails the test.
    page.wait_for_timeout(1_500)
