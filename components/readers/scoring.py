"""Score silver events with a stored model: inference only, never training."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from .events import ScoredEvents, normalise_events
from .models import ModelArtifact

SCORED_HERE = "anomaly_score, scored by SOC Copilot"


class ScoringError(ValueError):
    """The model cannot score this table; the message names both and why."""


def model_features(events: pd.DataFrame, names: tuple[str, ...]) -> np.ndarray:
    """The feature matrix a pipeline model expects, built from silver columns.

    ``bytes_per_second`` is derived when absent. Division by a zero duration
    gives inf (or NaN for 0/0), which scikit-learn refuses: both become 0, the
    rate of a flow whose duration was not measured.
    """
    frame = events
    if "bytes_per_second" in names and "bytes_per_second" not in frame:
        frame = frame.assign(bytes_per_second=_rate(frame))
    missing = [name for name in names if name not in frame]
    if missing:
        raise KeyError(", ".join(missing))
    matrix = frame[list(names)].apply(pd.to_numeric, errors="coerce")
    # A copy: with copy-on-write, an all-float frame hands out a read-only view.
    values = matrix.to_numpy(dtype="float64", copy=True)
    values[~np.isfinite(values)] = 0.0
    return values


def _rate(frame: pd.DataFrame) -> pd.Series:
    if "bytes" not in frame or "duration" not in frame:
        return pd.Series(np.nan, index=frame.index)
    numbers = {name: pd.to_numeric(frame[name], errors="coerce").astype(float)
               for name in ("bytes", "duration")}
    with np.errstate(divide="ignore", invalid="ignore"):
        return numbers["bytes"] / numbers["duration"]


def score_events(silver: pd.DataFrame, model: ModelArtifact, source: str
                 ) -> ScoredEvents:
    """Apply ``model`` to ``silver`` as the pipeline's evaluation step does."""
    if not model.can_score:
        raise ScoringError(f"'{model.source}' has no decision_function to score with")
    try:
        features = model_features(silver, model.feature_names)
    except KeyError as exc:
        raise ScoringError(
            f"'{model.source}' needs columns {exc.args[0]} that '{source}' lacks"
        ) from exc
    try:
        scores = model.estimator.decision_function(features)
    except ValueError as exc:
        raise ScoringError(
            f"'{model.source}' could not score '{source}': {str(exc)[:200]}"
        ) from exc
    scored = silver.assign(anomaly_score=scores, prediction=(scores < 0).astype(int))
    label = f"{SCORED_HERE} with {model.source}"
    normalised = normalise_events(scored, source, score_label=label)
    return dataclasses.replace(normalised, model_source=model.source)
