"""The threshold follows each events table's own range of risk.

Two score tables whose risks do not overlap: switching between them moves the
slider without the browser ever seeing a value outside its bounds, and a
typed threshold outside the range is held to it, with a note saying so.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import expect

from demo.build_store import build_demo_store
from tests.app.ui import LOAD_TIMEOUT_MS, set_threshold

pytestmark = pytest.mark.browser

SCORES_BUCKET = "cybersec-ml-scores"
EVENTS = 300
# Risk 0.0..0.1 in one table and 0.9..1.0 in the other; the second is newer.
TABLES = {"low_scores.csv": (0.0, 1_800_000_000),
          "high_scores.csv": (0.9, 1_800_000_100)}


@pytest.fixture(scope="module")
def two_range_store(tmp_path_factory):
    store = build_demo_store(tmp_path_factory.mktemp("ranges") / "store")
    scores = store / SCORES_BUCKET
    scores.mkdir()
    for name, (low, modified) in TABLES.items():
        pd.DataFrame({
            "timestamp": pd.date_range("2018-12-22", periods=EVENTS, freq="s"),
            "src_ip": "10.0.0.1", "dest_ip": "10.0.0.2", "action": "allow",
            "ml_score": np.linspace(low, low + 0.1, EVENTS),
        }).to_csv(scores / name, index=False)
        os.utime(scores / name, (modified, modified))
    return store


def slider_box(page):
    return page.locator(".slider-edit input")


def choose_events(page, name: str) -> None:
    select = page.locator("select").first
    label = next(text for text in select.locator("option").all_text_contents()
                 if text.endswith(name))
    select.select_option(label=label)


def test_switching_between_disjoint_ranges_and_typing_outside(
        app_servers, pages, two_range_store):
    app = app_servers.serve({"SOC_COPILOT_STORE": str(two_range_store),
                             "SCORES_BUCKET": SCORES_BUCKET})
    page = pages(app)
    page.goto(app.url)
    heading = page.locator(".alerts-heading h3")
    expect(heading).to_contain_text("risk ≥ 0.9", timeout=LOAD_TIMEOUT_MS)

    for name, low in (("low_scores.csv", 0.0), ("high_scores.csv", 0.9),
                      ("low_scores.csv", 0.0)):
        choose_events(page, name)
        expect(page.locator(".events-source")).to_contain_text(name)
        expect(heading).to_contain_text(f"risk ≥ {low:.1f}")
        shown = float(slider_box(page).input_value())
        assert low <= shown <= low + 0.1

    set_threshold(page, 5)
    note = page.locator(".threshold-note")
    expect(note).to_contain_text("5 is above the highest risk in these events; "
                                 "the threshold is 0.1000.")
    expect(heading).to_contain_text("risk ≥ 0.1000: 1")
    expect(slider_box(page)).to_have_value("0.1000")

    set_threshold(page, -3)
    expect(note).to_contain_text("-3 is below the lowest risk")
    expect(heading).to_contain_text(f"risk ≥ 0.0000: {EVENTS}")
    # The slider keeps the scores' range whatever was typed.
    handle = page.locator(".noUi-handle").first
    assert float(handle.get_attribute("aria-valuemax")) == pytest.approx(0.1)
    assert float(handle.get_attribute("aria-valuemin")) == pytest.approx(0.0)

    # Too large for a float: the box shows the threshold in force again.
    set_threshold(page, "1e309")
    expect(slider_box(page)).to_have_value("0.0000")
    expect(heading).to_contain_text(f"risk ≥ 0.0000: {EVENTS}")

    set_threshold(page, 0.05)
    expect(note).to_have_text("")
    expect(heading).to_contain_text("risk ≥ 0.0500")
