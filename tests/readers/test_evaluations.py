import json
import re

import pandas as pd
import pytest

from components.readers import EvaluationReadError, TableReadError, read_evaluation
from components.readers.evaluations import order_metrics

METRICS = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "anomaly_rate": 0.25,
           "score_mean": 0.06, "score_std": 0.07}


def long_frame() -> pd.DataFrame:
    return pd.DataFrame({"metric": list(METRICS), "value": list(METRICS.values())})


def wide_frame() -> pd.DataFrame:
    return pd.DataFrame([METRICS])


def csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def test_read_evaluation_pipeline_long_parquet(latest_run):
    source, data = latest_run["cybersec-ml-eval"]

    metrics = read_evaluation(data, source)

    assert list(metrics.index) == list(METRICS)
    assert metrics.name == source
    assert metrics[["precision", "recall", "f1"]].tolist() == [0.0, 0.0, 0.0]
    assert 0.0 < metrics["anomaly_rate"] < 1.0
    assert metrics.dtype == float


@pytest.mark.parametrize("name, data", [
    ("eval.parquet", long_frame().to_parquet(index=False)),
    ("eval.parquet", wide_frame().to_parquet(index=False)),
    ("eval.csv", csv(long_frame())),
    ("eval.csv", csv(wide_frame())),
    ("eval.json", json.dumps(METRICS).encode()),
    ("eval.json", json.dumps({"metrics": long_frame().to_dict("records")}).encode()),
], ids=["long-parquet", "wide-parquet", "long-csv", "wide-csv", "json-object",
        "json-long"])
def test_read_evaluation_accepts_every_shape(name, data):
    metrics = read_evaluation(data, name)

    assert metrics.to_dict() == METRICS


def test_read_evaluation_drops_non_numeric_values():
    frame = pd.DataFrame({"metric": ["f1", "model", None],
                          "value": ["0.5", "isoforest", "1"]})

    assert read_evaluation(csv(frame), "e.csv").to_dict() == {"f1": 0.5}


@pytest.mark.parametrize("name, data", [
    ("eval_x.parquet", b"this is not parquet at all"),
    ("eval_x.json", b"{not json"),
    ("eval_x.csv", b"\xff\xfe\xfa\x00,\x81"),
    ("eval_x.pkl", b"metric,value"),
])
def test_read_evaluation_garbage_raises_naming_object(name, data):
    with pytest.raises(TableReadError, match=re.escape(name)):
        read_evaluation(data, name)


def test_read_evaluation_many_rows_without_metric_column_raises():
    frame = pd.DataFrame({"a": [1, 2], "b": [3, 4]})

    with pytest.raises(EvaluationReadError, match=r"'e\.csv'.*columns: a, b"):
        read_evaluation(csv(frame), "e.csv")


def test_read_evaluation_without_numbers_raises_naming_object():
    data = json.dumps({"model": "isoforest", "dataset": "silver"}).encode()

    with pytest.raises(EvaluationReadError, match=r"'e\.json' holds no numeric"):
        read_evaluation(data, "e.json")


def test_order_metrics_puts_pipeline_metrics_first():
    names = ["zeta", "f1", "auc", "anomaly_rate", "score_std"]

    assert order_metrics(names) == ["anomaly_rate", "score_std", "f1", "auc", "zeta"]
