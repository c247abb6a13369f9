"""Odd and broken artifacts in a real S3 store, read as the app reads them.

Each bad object gets a message naming it and saying why, while the other
artifacts (models, evaluations, other event tables) still load; odd but valid
data (NaN or infinite scores, zero durations, any timestamp form, IPv6, odd
names, thousands of objects) is shown correctly.
"""

from __future__ import annotations

import io
import os
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import IsolationForest

from components.catalog import Catalog
from components.views import AnomalyView
from components.views.event_summary import EventSummary
from demo.build_store import BUCKETS

SCORES = "soc-copilot-scores"
EVENTS = 200


@pytest.fixture
def add_objects(s3_env, uploaded_buckets, s3_client):
    """Put objects in the pipeline's store; get a catalog listing them."""
    s3_client.create_bucket(Bucket=SCORES)

    def add(objects: dict[tuple[str, str], bytes]) -> Catalog:
        for (bucket, name), data in objects.items():
            s3_client.put_object(Bucket=bucket, Key=name, Body=data)
        return Catalog.from_env({**s3_env, "SCORES_BUCKET": SCORES})

    return add


def scores_table(**columns) -> pd.DataFrame:
    """A small per-event scores table; ``columns`` replace the defaults."""
    rng = np.random.default_rng(7)
    table = pd.DataFrame({
        "timestamp": pd.date_range("2018-12-22", periods=EVENTS, freq="min"),
        "src_ip": rng.choice(["192.168.1.10", "192.168.1.11"], EVENTS),
        "dst_ip": rng.choice(["10.0.0.1", "10.0.0.2", "10.0.0.3"], EVENTS),
        "protocol": "tcp",
        "bytes": rng.integers(0, 5000, EVENTS),
        "duration": rng.random(EVENTS),
        "anomaly_score": np.linspace(-0.3, 0.3, EVENTS),
    })
    for name, values in columns.items():
        table[name] = values
    return table


def parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def assert_refused_and_contained(catalog: Catalog, path: str, *reasons: str):
    """The view names ``path`` and the reason; everything else still loads."""
    assert catalog.events == path
    view = AnomalyView(catalog=catalog)
    assert view.summary is None
    assert f"'{path}'" in view.error
    for reason in reasons:
        assert reason in view.error
    assert catalog.problems == {}
    assert catalog.load_model().estimator is not None
    history, failures = catalog.load_evaluations()
    assert failures == {} and len(history) > 0
    catalog.events = next(info.path for info in catalog.event_tables
                          if info.bucket == BUCKETS["silver"])
    assert view.error == "" and view.summary is not None


@pytest.mark.parametrize(("name", "data", "reasons"), [
    ("zero_bytes.parquet", b"", ["empty (0 bytes)"]),
    ("truncated.parquet", parquet(scores_table())[:300],
     ["not a readable parquet file"]),
    # Without a score column a table is scored with the model, which
    # names the features it lacks.
    ("wrong_columns.parquet", parquet(pd.DataFrame({"a": [1], "b": [2]})),
     ["needs columns bytes, duration", "lacks"]),
    ("text_scores.parquet", parquet(scores_table(anomaly_score="high")),
     ["column 'anomaly_score' holds no usable score", "200 values that are not "
      "numbers, such as 'high'"]),
    ("nan_scores.parquet", parquet(scores_table(anomaly_score=np.nan)),
     ["holds no usable score", "200 missing"]),
    ("inf_scores.parquet", parquet(scores_table(anomaly_score=np.inf)),
     ["holds no usable score", "200 infinite"]),
    ("not_a_table.csv", b"\xff\xfe\x00garbage\x00",
     ["not a readable csv file"]),
])
def test_unreadable_events_table_is_named_and_contained(add_objects, name, data,
                                                        reasons):
    catalog = add_objects({(SCORES, name): data})

    assert_refused_and_contained(catalog, f"{SCORES}/{name}", *reasons)


def test_silver_table_without_the_model_features_is_named(add_objects,
                                                          upstream_bucket_objects):
    silver = BUCKETS["silver"]
    newest = max(upstream_bucket_objects[silver])
    table = pd.read_parquet(io.BytesIO(upstream_bucket_objects[silver][newest]))
    name = "network_events_silver_20190101_000000.parquet"
    catalog = add_objects({(silver, name): parquet(
        table.drop(columns=["bytes_per_second", "duration"]))})

    view = AnomalyView(catalog=catalog)

    assert f"'{silver}/{name}'" in view.error
    assert "duration" in view.error
    assert catalog.load_model().estimator is not None


def test_model_trained_on_other_features_is_named(add_objects):
    rng = np.random.default_rng(3)
    other = IsolationForest(n_estimators=5, random_state=0).fit(rng.random((50, 3)))
    buffer = io.BytesIO()
    joblib.dump({"model": other, "feature_cols": ["packets", "ttl", "flags"]}, buffer)
    models = BUCKETS["models"]
    name = "model_isoforest_20190101_000000.joblib"
    catalog = add_objects({(models, name): buffer.getvalue()})
    catalog.events = next(info.path for info in catalog.event_tables
                          if info.bucket == BUCKETS["silver"])

    view = AnomalyView(catalog=catalog)

    assert catalog.model == name
    assert f"'{models}/{name}'" in view.error
    assert "packets" in view.error
    older = [info.name for info in catalog.models if info.name != name]
    catalog.model = older[-1]
    assert view.error == "" and view.summary is not None


def test_nan_and_infinite_scores_are_shown_and_counted(add_objects):
    scores = np.linspace(-0.3, 0.3, EVENTS)
    scores[:5], scores[5:8] = np.nan, -np.inf
    catalog = add_objects({(SCORES, "odd_scores.parquet"):
                           parquet(scores_table(anomaly_score=scores))})

    view = AnomalyView(catalog=catalog)
    alerts, events = view.summary.count_alerts(view.threshold, [])

    assert view.error == ""
    assert events == EVENTS
    # -inf decision scores are the most anomalous: always alerts; NaN never.
    expected = int((-scores[np.isfinite(scores)] >= view.threshold).sum()) + 3
    assert alerts == expected
    rows = view.summary.alert_rows(view.threshold, [])
    assert len(view.summary.alerts_table(rows, ["risk"])) == alerts


def test_zero_duration_events_are_scored(add_objects, upstream_bucket_objects):
    silver = BUCKETS["silver"]
    newest = max(upstream_bucket_objects[silver])
    table = pd.read_parquet(io.BytesIO(upstream_bucket_objects[silver][newest]))
    table.loc[table.index[:100], "duration"] = 0.0
    table.loc[table.index[:100], "bytes_per_second"] = np.inf
    name = "network_events_silver_20190101_000000.parquet"
    catalog = add_objects({(silver, name): parquet(table)})
    catalog.events = f"{silver}/{name}"

    view = AnomalyView(catalog=catalog)

    assert view.error == ""
    assert np.isfinite(view.summary.risk).all()
    assert view.summary.count_alerts(view.threshold, [])[1] == len(table)


INSTANT = pd.Timestamp("2018-12-22 06:50:00", tz="UTC")
TIMESTAMP_FORMS = {
    "naive": pd.Series([INSTANT.tz_localize(None)] * EVENTS),
    "aware": pd.Series([INSTANT.tz_convert("Europe/Prague")] * EVENTS),
    "iso_text": pd.Series(["2018-12-22T08:50:00+02:00"] * EVENTS),
    "epoch_seconds": pd.Series([INSTANT.timestamp()] * EVENTS),
    "epoch_milliseconds": pd.Series([int(INSTANT.timestamp() * 1000)] * EVENTS),
}


@pytest.mark.parametrize("form", list(TIMESTAMP_FORMS))
def test_every_timestamp_form_reads_as_the_same_utc_instant(add_objects, form):
    name = f"times_{form}.parquet"
    catalog = add_objects({(SCORES, name): parquet(
        scores_table(timestamp=TIMESTAMP_FORMS[form]))})

    frame = catalog.load_events().frame

    assert (frame["timestamp"] == INSTANT).all()


def test_ipv6_addresses_are_shown_and_filtered(add_objects):
    sources = np.where(np.arange(EVENTS) % 4 == 0, "2001:db8::1", "fe80::a:b")
    table = scores_table(src_ip=sources, dst_ip="2001:db8:ffff::53")
    catalog = add_objects({(SCORES, "ipv6.parquet"): parquet(table)})

    summary = EventSummary(catalog.load_events())
    everything = summary.alert_rows(-np.inf, [])
    alerts, events = summary.count_alerts(-np.inf, ["2001:db8::1"])

    assert set(summary.source_addresses) == {"2001:db8::1", "fe80::a:b"}
    assert (alerts, events) == (EVENTS // 4, EVENTS // 4)
    top = summary.top_addresses(everything, "dst_ip")
    assert top["address"].tolist() == ["2001:db8:ffff::53"]


ODD_NAMES = ["scores with spaces.parquet", "skóre_événements_日本.parquet",
             "<img src=x onerror=alert(1)>.parquet"]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_object_names_are_listed_and_read(add_objects, name):
    catalog = add_objects({(SCORES, name): parquet(scores_table())})

    assert catalog.events == f"{SCORES}/{name}"
    assert len(catalog.load_events().frame) == EVENTS


def test_same_name_in_two_buckets_are_two_tables(add_objects):
    name = "network_events_scored.parquet"
    catalog = add_objects({(SCORES, name): parquet(scores_table()),
                           (BUCKETS["eval"], name): parquet(scores_table())})

    paths = [info.path for info in catalog.event_tables if info.name == name]

    assert sorted(paths) == sorted([f"{SCORES}/{name}", f"{BUCKETS['eval']}/{name}"])


def test_unknown_file_types_and_folders_are_ignored(add_objects):
    ignored = {(BUCKETS["models"], "README.txt"): b"notes",
               (BUCKETS["models"], "model.onnx"): b"\x08\x01",
               (BUCKETS["silver"], "_SUCCESS"): b"",
               (BUCKETS["silver"], "part/events.parquet"): parquet(scores_table()),
               (SCORES, "chart.png"): b"\x89PNG"}
    catalog = add_objects(ignored)

    listed = {info.path for info in [*catalog.models, *catalog.event_tables,
                                     *catalog.evaluations]}

    assert not listed & {f"{bucket}/{name}" for bucket, name in ignored}
    assert catalog.problems == {}
    assert len(catalog.models) == 3


def test_a_bucket_of_thousands_of_objects_is_listed_whole(add_objects, s3_client):
    count = 2_100  # three pages of S3's at most 1,000 keys per listing
    for index in range(count):
        s3_client.put_object(Bucket=SCORES, Key=f"scores_{index:05d}.csv",
                             Body=b"anomaly_score\n0.1\n")
    catalog = add_objects({})

    scores = [info for info in catalog.event_tables if info.bucket == SCORES]

    assert len(scores) == count
    assert catalog.selected_events.name == f"scores_{count - 1:05d}.csv"


class RunsCode:
    """Unpickles as ``os.system(command)``: what an attacker would store."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_model_that_would_run_code_is_refused_and_runs_nothing(add_objects,
                                                               tmp_path):
    marker = tmp_path / "ran"
    models = BUCKETS["models"]
    name = "model_isoforest_20190101_000000.pkl"
    payload = pickle.dumps({"model": RunsCode(f"touch '{marker}'"),
                            "feature_cols": ["bytes"]})
    catalog = add_objects({(models, name): payload})
    catalog.events = next(info.path for info in catalog.event_tables
                          if info.bucket == BUCKETS["silver"])

    view = AnomalyView(catalog=catalog)

    assert f"'{models}/{name}'" in view.error
    assert "posix.system" in view.error
    assert not marker.exists()
    history, failures = catalog.load_evaluations()
    assert failures == {} and len(history) > 0


def test_object_over_the_configured_limit_is_not_read(add_objects, s3_env):
    rows = 200_000  # random doubles: about 1.6 MB of Parquet
    big = parquet(pd.DataFrame(
        {"anomaly_score": np.random.default_rng(5).random(rows)}))
    add_objects({(SCORES, "big_scores.parquet"): big})
    catalog = Catalog.from_env({**s3_env, "SCORES_BUCKET": SCORES,
                                "SOC_COPILOT_MAX_OBJECT_MB": "1"})

    view = AnomalyView(catalog=catalog)

    assert catalog.selected_events.size == len(big) > 2**20
    assert f"'{SCORES}/big_scores.parquet' is {len(big):,} bytes" in view.error
    assert "over the 1,048,576-byte limit; not read" in view.error
    assert catalog.load_model().estimator is not None


def duplicate_columns_parquet() -> bytes:
    """Parquet (unlike pandas) allows two columns of one name."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays([pa.array([0.1, 0.2]), pa.array([0.3, 0.4])],
                                 names=["score", "score"])
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "data", "reasons"), [
    ("repeated_column.parquet", duplicate_columns_parquet(),
     ["more than one column named score"]),
    ("huge_span.parquet", parquet(scores_table(
        anomaly_score=np.tile([1e308, -1e308, 0.0, 5e-324], EVENTS // 4))),
     ["a span too wide to bin or slide over"]),
])
def test_odd_structures_are_named_and_contained(add_objects, name, data, reasons):
    catalog = add_objects({(SCORES, name): data})

    assert_refused_and_contained(catalog, f"{SCORES}/{name}", *reasons)


def test_old_and_new_names_for_one_column_read_as_one(add_objects):
    # ``prediction`` (the model's own verdict) wins over ``ml_is_outlier``.
    table = scores_table(dest_ip="10.9.9.9", ml_is_outlier=0, prediction=1)
    catalog = add_objects({(SCORES, "both_names.parquet"): parquet(table)})

    frame = catalog.load_events().frame

    assert set(frame["dst_ip"].astype(str)) == {"10.0.0.1", "10.0.0.2", "10.0.0.3"}
    assert frame["flagged"].all()
