"""What the views compute and how they show store text, without a browser."""

import numpy as np
import pandas as pd

from components.readers import normalise_events
from components.views.evaluation import runs_table
from components.views.event_summary import EventSummary
from components.views.text import as_text


def _summary(scores) -> EventSummary:
    frame = pd.DataFrame({
        "timestamp": pd.date_range("2018-12-22", periods=len(scores), freq="s"),
        "src_ip": ["10.0.0.1", "10.0.0.2"] * (len(scores) // 2),
        "dst_ip": "10.0.0.9", "bytes": 10, "duration": 1.0, "ml_score": scores,
    })
    return EventSummary(normalise_events(frame, "scores.csv"))


def test_alert_count_agrees_with_the_table_when_scores_are_infinite():
    summary = _summary([0.1, np.inf, -np.inf, np.nan, 0.9, 0.2])
    for threshold in (0.0, 0.15, 0.5, 1.0):
        for hosts in ([], ["10.0.0.1"], ["10.0.0.1", "10.0.0.2"]):
            alerts, _total = summary.count_alerts(threshold, hosts)
            table = summary.alerts_table(summary.alert_rows(threshold, hosts),
                                         ["risk"])
            assert alerts == len(table), (threshold, hosts)


def test_threshold_range_ignores_infinite_scores():
    assert _summary([0.1, np.inf, -np.inf, 0.9]).risk_range == (0.1, 0.9)


def test_runs_table_survives_metrics_named_like_its_columns():
    history = pd.DataFrame({
        "run": ["eval_a.json"] * 3, "run_time": pd.Timestamp("2018-12-22"),
        "metric": ["run_time", "run", "anomaly_rate"], "value": [0.5, 0.4, 0.1],
    })
    wide = runs_table(history)
    assert {"run_time (metric)", "run (metric)", "anomaly_rate"} <= set(wide.columns)


def test_store_text_renders_as_itself_not_as_markup():
    hostile = "![x](http://127.0.0.1:9/beacon.png) <img src=x onerror=alert(1)>"
    text = as_text(hostile)
    assert "<img" not in text and "](" not in text
    assert text.replace("\\", "").replace("&lt;", "<").replace("&gt;", ">") == (
        hostile)


def test_counts_among_chosen_hosts_match_a_plain_count():
    summary = _summary([0.1, 0.7, np.nan, 0.9, 0.2, 0.8])
    frame = summary.table_frame
    for hosts in (["10.0.0.1"], ["10.0.0.2"], ["10.0.0.1", "10.0.0.2"],
                  ["10.9.9.9"]):
        chosen = frame["src_ip"].astype(str).isin(hosts)
        for threshold in (0.0, 0.5, 0.85):
            alerts, total = summary.count_alerts(threshold, hosts)
            assert total == int(chosen.sum()), hosts
            assert alerts == int((chosen & (frame["risk"] >= threshold)).sum())
