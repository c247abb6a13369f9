import numpy as np
import pandas as pd
import pytest

from components.readers import EventsReadError, normalise_events, read_table
from components.readers.events import to_utc

LEGACY_CSV = b"""timestamp,user,host,src_ip,dest_ip,action,ml_score,ml_is_outlier
2018-12-21 15:00:00,alice,pi-1,192.168.1.195,185.244.25.235,allow,0.12,0
2018-12-21 15:00:05,bob,pi-1,192.168.1.195,185.244.25.235,deny,0.97,1
2018-12-21 15:00:09,alice,pi-2,192.168.1.1,192.168.1.195,allow,0.55,False
"""
LEGACY_SOURCE = "scores/legacy_scores_20181221_150000.csv"


@pytest.fixture
def legacy():
    return normalise_events(read_table(LEGACY_CSV, LEGACY_SOURCE), LEGACY_SOURCE)


def test_normalise_events_legacy_csv_columns(legacy):
    frame = legacy.frame

    assert legacy.source == LEGACY_SOURCE
    assert legacy.score_column == "ml_score"
    assert frame["dst_ip"].tolist() == ["185.244.25.235"] * 2 + ["192.168.1.195"]
    assert frame["user"].tolist() == ["alice", "bob", "alice"]
    assert frame["host"].tolist() == ["pi-1", "pi-1", "pi-2"]
    assert frame["action"].tolist() == ["allow", "deny", "allow"]
    assert frame["protocol"].tolist() == ["unknown"] * 3
    assert frame["bytes"].isna().all()


def test_normalise_events_naive_timestamps_become_utc(legacy):
    assert legacy.frame["timestamp"].tolist() == [
        pd.Timestamp("2018-12-21 15:00:00", tz="UTC"),
        pd.Timestamp("2018-12-21 15:00:05", tz="UTC"),
        pd.Timestamp("2018-12-21 15:00:09", tz="UTC"),
    ]


def test_normalise_events_ml_score_is_kept_as_risk(legacy):
    frame = legacy.frame

    assert frame["raw_score"].tolist() == [0.12, 0.97, 0.55]
    assert frame["risk"].tolist() == [0.12, 0.97, 0.55]
    assert frame["flagged"].tolist() == [False, True, False]
    assert legacy.default_threshold == 0.97


def test_normalise_events_anomaly_score_is_negated():
    raw = pd.DataFrame({"timestamp": [1545404400, 1545404401],
                        "anomaly_score": [0.1, -0.2], "prediction": [0, 1]})

    events = normalise_events(raw, "scores.parquet")

    assert events.frame["risk"].tolist() == [-0.1, 0.2]
    assert events.frame["raw_score"].tolist() == [0.1, -0.2]
    assert events.frame["flagged"].tolist() == [False, True]
    assert events.frame["timestamp"].iloc[0] == pd.Timestamp(
        "2018-12-21 15:00:00", tz="UTC")
    assert events.default_threshold == 0.0


def test_normalise_events_unflagged_threshold_is_99th_percentile():
    raw = pd.DataFrame({"score": np.arange(101, dtype=float)})

    events = normalise_events(raw, "scores.csv")

    assert events.default_threshold == pytest.approx(99.0)
    assert events.frame["flagged"].isna().all()


def test_normalise_events_without_score_raises_naming_object(zeek_events):
    with pytest.raises(EventsReadError, match=r"'silver\.parquet' has no score"):
        normalise_events(zeek_events.head(), "silver.parquet")


@pytest.mark.parametrize("scale, unit", [(1, "s"), (1_000, "ms"),
                                         (1_000_000, "us"), (10**9, "ns")])
def test_epoch_numbers_are_read_in_the_unit_their_size_gives(scale, unit):
    seconds = pd.Series([1545490216, 1545490276])
    times = to_utc(seconds * scale)
    assert times.dt.year.tolist() == [2018, 2018], unit
    assert (times.iloc[1] - times.iloc[0]).total_seconds() == 60
