"""The served dashboard in headless Chromium, reading the pipeline's objects
from the test S3 server.

Every expected value is worked out here from the uploaded bytes, with pandas
and the pickled model itself, never with the app's readers.
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import expect

from components.views.anomalies import AnomalyView
from demo.build_store import BUCKETS, FEATURES
from tests.app.ui import (
    PAGE_TEXT,
    alerts_column,
    download_alerts,
    indicator,
    labelled,
    open_dashboard,
    set_threshold,
    show_tab,
    shown_risks,
)
from tests.conftest import SECRET_KEY

pytestmark = pytest.mark.browser

# Where alerts start: risk 0 is the pipeline model's own boundary.
DEFAULT_THRESHOLD = 0.0

PAGE_SIZE = AnomalyView.param["page_size"].default

@dataclass(frozen=True)
class LatestRun:
    """The newest pipeline run as the dashboard should show it."""

    silver: str
    risk: np.ndarray
    destinations: np.ndarray
    evaluation: str
    anomaly_rate: float
    model: str

    def alerts_at(self, threshold: float) -> int:
        return int((self.risk >= threshold).sum())

    def top_risks(self, count: int) -> list[float]:
        return sorted(self.risk.tolist(), reverse=True)[:count]

    def threshold_with_few_alerts(self, most: int) -> float:
        """A threshold halfway between two risk levels, leaving 1..most alerts."""
        levels = np.unique(self.risk)[::-1]
        index = 0
        while self.alerts_at(levels[index + 1]) <= most:
            index += 1
        return round(float(levels[index] + levels[index + 1]) / 2, 6)


@pytest.fixture(scope="module")
def latest(latest_run) -> LatestRun:
    silver_path, silver_bytes = latest_run[BUCKETS["silver"]]
    model_path, model_bytes = latest_run[BUCKETS["models"]]
    eval_path, eval_bytes = latest_run[BUCKETS["eval"]]
    silver = pd.read_parquet(io.BytesIO(silver_bytes))
    # Trusted bytes: the session's own fixture pickled this model.
    model = pickle.loads(model_bytes)
    features = silver[list(FEATURES)].to_numpy(dtype="float64")
    features = np.nan_to_num(features, nan=0.0, posinf=0.0, neginf=0.0)
    metrics = pd.read_parquet(io.BytesIO(eval_bytes)).set_index("metric")["value"]
    return LatestRun(
        silver=silver_path,
        risk=-model.decision_function(features),
        destinations=silver["dst_ip"].astype(str).to_numpy(),
        evaluation=eval_path.rpartition("/")[2],
        anomaly_rate=float(metrics["anomaly_rate"]),
        model=model_path.rpartition("/")[2],
    )


def test_dashboard_shows_the_latest_events_from_s3(page, served_app, latest,
                                                   s3_server):
    open_dashboard(page, served_app)

    events = len(latest.risk)
    expect(labelled(page, "p", "Store:")).to_have_text(
        f"Store: {s3_server.endpoint_url}")
    expect(labelled(page, "p", "Events:")).to_contain_text(
        f"{latest.silver} ({events:,} events;")
    expect(indicator(page, "Events")).to_have_text(f"{events:,}")
    expect(indicator(page, "Alerts")).to_have_text(
        f"{latest.alerts_at(DEFAULT_THRESHOLD):,}")


def test_evaluation_tab_shows_the_latest_run(page, served_app, latest):
    open_dashboard(page, served_app)
    show_tab(page, "Evaluation")

    latest_run = labelled(page, "p", "Latest run:")
    expect(latest_run).to_be_visible()
    expect(latest_run).to_have_text(f"Latest run: {latest.evaluation}")
    expect(indicator(page, "anomaly_rate")).to_have_text(f"{latest.anomaly_rate:.4f}")


def test_models_tab_shows_the_latest_model(page, served_app, latest):
    open_dashboard(page, served_app)
    show_tab(page, "Models")

    expect(page.locator(f"h3:text-is('{latest.model}')")).to_be_visible()
    expect(labelled(page, "li", "class:")).to_have_text("class: IsolationForest")


def test_threshold_recounts_alerts_and_refills_the_table(page, served_app, latest):
    open_dashboard(page, served_app)
    expect(alerts_column(page, "risk")).to_have_count(PAGE_SIZE)

    threshold = latest.threshold_with_few_alerts(PAGE_SIZE - 1)
    alerts = latest.alerts_at(threshold)
    set_threshold(page, threshold)

    expect(indicator(page, "Alerts")).to_have_text(f"{alerts:,}")
    expect(alerts_column(page, "risk")).to_have_count(alerts)
    assert shown_risks(page) == pytest.approx(latest.top_risks(alerts), abs=1e-6)


def test_download_holds_exactly_the_alerts_table(page, served_app, latest):
    open_dashboard(page, served_app)

    everything = download_alerts(page)
    assert len(everything) == latest.alerts_at(DEFAULT_THRESHOLD) > PAGE_SIZE
    assert everything["risk"].tolist() == pytest.approx(
        latest.top_risks(len(everything)), abs=1e-9)

    threshold = latest.threshold_with_few_alerts(PAGE_SIZE - 1)
    set_threshold(page, threshold)
    expect(alerts_column(page, "risk")).to_have_count(latest.alerts_at(threshold))
    few = download_alerts(page)

    assert len(few) == latest.alerts_at(threshold)
    assert few["dst_ip"].tolist() == alerts_column(page, "dst_ip").all_text_contents()
    assert few["risk"].tolist() == pytest.approx(shown_risks(page), abs=1e-6)
    assert (few["risk"] >= threshold).all()


def test_alert_pages_and_search_are_served_a_page_at_a_time(page, served_app,
                                                            latest):
    open_dashboard(page, served_app)
    alerts = latest.alerts_at(DEFAULT_THRESHOLD)
    assert alerts > 2 * PAGE_SIZE
    position = page.locator(".alerts-position")
    expect(position).to_contain_text(f"Alerts 1 to {PAGE_SIZE} of {alerts:,}")

    page.get_by_role("button", name="Next ▶").click()
    expect(position).to_contain_text(f"Alerts {PAGE_SIZE + 1} to {2 * PAGE_SIZE}")
    expect(alerts_column(page, "risk")).to_have_count(PAGE_SIZE)
    assert shown_risks(page) == pytest.approx(
        latest.top_risks(2 * PAGE_SIZE)[PAGE_SIZE:], abs=1e-6)

    flagged = latest.risk >= DEFAULT_THRESHOLD
    counts = pd.Series(latest.destinations[flagged]).value_counts()
    # An address inside no other one, so the search finds it alone.
    wanted = next(address for address in counts.index[::-1]
                  if not any(address in other and address != other
                             for other in latest.destinations))
    matches = int((latest.destinations[flagged] == wanted).sum())
    search = page.locator(".alerts-search input")
    search.fill(wanted)
    search.press("Enter")
    expect(position).to_contain_text(f"of {matches:,} · page 1 of")
    shown = alerts_column(page, "dst_ip")
    expect(shown).to_have_count(min(matches, PAGE_SIZE))
    assert set(shown.all_text_contents()) == {wanted}
    assert len(download_alerts(page)) == matches


def test_status_area_never_shows_the_secret_key(page, served_app, s3_server):
    frames: list = []
    page.on("websocket", lambda socket: socket.on(
        "framereceived", lambda frame: frames.append(frame)))
    open_dashboard(page, served_app)

    status = labelled(page, "p", "State:")
    expect(status).to_have_text("State: answering")
    text = page.evaluate(PAGE_TEXT)

    assert s3_server.endpoint_url in text
    assert SECRET_KEY not in text
    assert frames
    assert not [frame for frame in frames if _holds(frame, SECRET_KEY)]


def _holds(frame: str | bytes, secret: str) -> bool:
    return (secret.encode() if isinstance(frame, bytes) else secret) in frame
