"""Read one evaluation run's metrics, whatever shape the pipeline wrote."""

from __future__ import annotations

import pandas as pd

from .tables import read_table

# The pipeline's own metrics, in the order the dashboard shows them.
PIPELINE_METRICS = (
    "anomaly_rate", "score_mean", "score_std", "precision", "recall", "f1",
)

# Computed against an all-zero ground truth: they are not accuracy.
UNLABELLED_METRICS = frozenset({"precision", "recall", "f1"})


class EvaluationReadError(ValueError):
    """The object holds no metrics this dashboard can read."""


def read_evaluation(data: bytes, source: str) -> pd.Series:
    """Metric name to float value for one run.

    Accepts the long ``metric,value`` table (the pipeline's), a one-row wide
    table, a JSON object of metric to value and CSV of either table shape.
    """
    frame = read_table(data, source)
    if {"metric", "value"} <= set(frame.columns):
        metrics = _from_long(frame)
    elif len(frame) == 1:
        metrics = frame.iloc[0]
    else:
        raise EvaluationReadError(
            f"'{source}' has neither 'metric' and 'value' columns nor a single "
            f"row of metrics (columns: {', '.join(map(str, frame.columns))})"
        )
    values = pd.to_numeric(metrics, errors="coerce").dropna().astype(float)
    if values.empty:
        raise EvaluationReadError(f"'{source}' holds no numeric metric values")
    values.index = values.index.map(str)
    values.name = source
    return values


def _from_long(frame: pd.DataFrame) -> pd.Series:
    long = frame.dropna(subset=["metric"])
    return pd.Series(long["value"].to_numpy(), index=long["metric"].astype(str))


def order_metrics(names) -> list[str]:
    """The pipeline's metrics first, in their usual order, then the others."""
    known = [name for name in PIPELINE_METRICS if name in names]
    return known + sorted(name for name in names if name not in PIPELINE_METRICS)
