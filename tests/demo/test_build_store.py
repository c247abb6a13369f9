"""The demo builder emulates the pipeline's objects from the real sample."""

import io
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest

from demo.build_store import (
    BUCKETS,
    RAW_COLUMNS,
    RUN_TIMES,
    build_demo_store,
    raw_window,
    to_silver,
)

REPO = Path(__file__).resolve().parents[2]
STAMPS = ("20181221_225000", "20181222_065000", "20181222_145000")


def parquet(data: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(data))


def test_pipeline_objects_names_every_run(upstream_bucket_objects):
    expected = {
        "cybersec-ml-raw": {f"network_events_{s}.parquet" for s in STAMPS},
        "cybersec-ml-silver": {f"network_events_silver_{s}.parquet" for s in STAMPS},
        "cybersec-ml-models": {f"model_isoforest_{s}.pkl" for s in STAMPS},
        "cybersec-ml-eval": {f"eval_{s}.parquet" for s in STAMPS},
    }

    assert {bucket: set(objects) for bucket, objects
            in upstream_bucket_objects.items()} == expected


def test_pipeline_objects_windows_split_the_capture(upstream_bucket_objects,
                                                    zeek_events):
    raws = [parquet(data) for _, data in
            sorted(upstream_bucket_objects[BUCKETS["raw"]].items())]

    assert [len(raw) for raw in raws] == [4608, 1215, 17318]
    # Every event before the last run is in exactly one window; the capture's
    # last 4 events (14:50:03 to 14:50:13) come after it.
    before_last_run = (zeek_events["timestamp"] < RUN_TIMES[-1]).sum()
    assert sum(len(raw) for raw in raws) == before_last_run
    for raw, end in zip(raws, RUN_TIMES, strict=True):
        assert tuple(raw.columns) == RAW_COLUMNS
        assert raw["timestamp"].between(end - pd.Timedelta(hours=8), end).all()


def test_to_silver_derives_columns_as_upstream():
    raw = pd.DataFrame({
        "timestamp": pd.to_datetime(["2018-12-21 15:00", "2018-12-21 16:30"] * 3,
                                    utc=True),
        "bytes": [0, 10, 600, 5000, 20000, 300],
        "duration": [0.0, 0.0, 2.0, 10.0, 4.0, 3.0],
    })

    silver = to_silver(raw)

    np.testing.assert_array_equal(silver["bytes_per_second"],
                                  [np.nan, np.inf, 300.0, 500.0, 5000.0, 100.0])
    assert silver["timestamp_hour"].tolist() == [15, 16] * 3
    assert silver["flow_size_category"].astype(object).tolist() == [
        np.nan, "small", "medium", "large", np.nan, "small"]


def test_silver_keeps_nan_rates_of_the_sample(upstream_bucket_objects):
    name = f"network_events_silver_{STAMPS[0]}.parquet"
    silver = parquet(upstream_bucket_objects[BUCKETS["silver"]][name])

    assert silver["bytes_per_second"].isna().sum() == (
        (silver["bytes"] == 0) & (silver["duration"] == 0)).sum() > 0
    assert list(silver.columns) == [*RAW_COLUMNS, "bytes_per_second",
                                    "timestamp_hour", "flow_size_category"]


def test_pipeline_model_is_plain_isolation_forest(upstream_bucket_objects):
    name = f"model_isoforest_{STAMPS[-1]}.pkl"

    model = pickle.loads(upstream_bucket_objects[BUCKETS["models"]][name])

    assert isinstance(model, IsolationForest)
    assert model.n_estimators == 100
    assert model.n_features_in_ == 3
    assert not hasattr(model, "feature_names_in_")


def test_pipeline_evaluation_is_long_metric_table(upstream_bucket_objects):
    objects = upstream_bucket_objects[BUCKETS["eval"]]
    table = parquet(objects[f"eval_{STAMPS[0]}.parquet"])

    assert table["metric"].tolist() == ["precision", "recall", "f1", "anomaly_rate",
                                        "score_mean", "score_std"]
    assert table["value"].dtype == np.float64
    assert table["value"].iloc[:3].tolist() == [0.0, 0.0, 0.0]
    assert 0.0 < table["value"].iloc[3] < 0.5


def test_raw_window_accepts_naive_run_time(zeek_events):
    naive = raw_window(zeek_events, pd.Timestamp("2018-12-22 06:50"))

    assert len(naive) == 1215


def test_build_demo_store_dates_files_to_runs(tmp_path, zeek_events):
    root = build_demo_store(tmp_path / "store", zeek_events)

    for bucket in BUCKETS.values():
        files = sorted((root / bucket).iterdir())
        assert [f.stat().st_mtime for f in files] == [
            run.timestamp() for run in RUN_TIMES]


def test_build_store_cli_writes_store(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "demo.build_store", str(tmp_path / "store")],
        cwd=REPO, capture_output=True, text=True, check=True,
    )

    assert done.stdout.strip().endswith("12 objects")
    assert len(list((tmp_path / "store").rglob("*.parquet"))) == 9
