"""Text from the store is shown as text: names and values holding HTML or
Markdown neither run script nor make the browser fetch anything."""

from __future__ import annotations

import io
import json
import os
import shutil

import pandas as pd
import pytest
from playwright.sync_api import expect

from demo.build_store import BUCKETS, build_demo_store

pytestmark = pytest.mark.browser

SCRIPT_METRIC = "<img src=x onerror=alert('metric')>"
SCRIPT_ADDRESS = "<img src=x onerror=alert('src_ip')>"
BEACON = "![b](beacon-canary.png)"
LATER = 1_700_000_000  # every planted object is newer than the demo runs


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory):
    store = build_demo_store(tmp_path_factory.mktemp("hostile") / "store")
    _plant(store / BUCKETS["eval"] / "eval_20190101_000000.json",
           json.dumps({SCRIPT_METRIC: 0.5, "anomaly_rate": 0.1}).encode())
    models = sorted((store / BUCKETS["models"]).iterdir())
    model_name = f"model_isoforest_{BEACON}_20190102_000000.pkl"
    shutil.copy(models[-1], store / BUCKETS["models"] / model_name)
    os.utime(store / BUCKETS["models"] / model_name, (LATER, LATER))
    silver_path = sorted((store / BUCKETS["silver"]).iterdir())[-1]
    silver = pd.read_parquet(silver_path)
    silver["src_ip"] = silver["src_ip"].astype(str)
    silver.loc[silver.index[:50], "src_ip"] = SCRIPT_ADDRESS
    buffer = io.BytesIO()
    silver.to_parquet(buffer, index=False)
    _plant(store / BUCKETS["silver"] / "network_events_silver_20190103_000000.parquet",
           buffer.getvalue())
    return store


def _plant(path, data: bytes) -> None:
    path.write_bytes(data)
    os.utime(path, (LATER, LATER))


@pytest.fixture
def served_app(app_servers, hostile_store):
    return app_servers.serve({"SOC_COPILOT_STORE": str(hostile_store)})


def test_hostile_names_and_values_show_as_text_and_run_nothing(page, served_app):
    dialogs, fetched = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message),
                                      dialog.dismiss()))
    page.on("request", lambda request: "canary" in request.url
            and fetched.append(request.url))
    page.goto(served_app.url)
    expect(page.locator(".alert-counts").first).to_be_attached(timeout=45_000)
    page.locator(".bk-tab:text-is('Evaluation')").click()
    expect(page.get_by_text(SCRIPT_METRIC).first).to_be_attached()
    page.locator(".bk-tab:text-is('Models')").click()
    expect(page.locator(".model-details").get_by_text(BEACON).first).to_be_attached()
    page.locator(".bk-tab:text-is('Anomalies')").click()
    expect(page.locator(".alert-counts").first).to_be_attached()
    page.wait_for_timeout(1000)
    assert dialogs == []
    assert fetched == []
