"""Scoring the builder's silver tables with its models, as the pipeline does."""

import io
from dataclasses import replace

import joblib
import numpy as np
import pandas as pd
import pytest

from components.readers import (
    ScoringError,
    read_evaluation,
    read_model,
    read_table,
    score_events,
)
from components.readers.models import PIPELINE_FEATURES
from components.readers.scoring import SCORED_HERE, model_features


@pytest.fixture(scope="module")
def silver(latest_run):
    source, data = latest_run["cybersec-ml-silver"]
    return source, read_table(data, source)


@pytest.fixture(scope="module")
def model(latest_run):
    source, data = latest_run["cybersec-ml-models"]
    return read_model(data, source)


def test_score_events_equals_decision_function(silver, model):
    source, table = silver

    scored = score_events(table, model, source)

    expected = model.estimator.decision_function(
        model_features(table, PIPELINE_FEATURES))
    np.testing.assert_array_equal(scored.frame["raw_score"], expected)
    np.testing.assert_array_equal(scored.frame["risk"], -expected)
    assert scored.score_column == f"{SCORED_HERE} with {model.source}"
    assert scored.model_source == model.source
    assert scored.source == source
    assert len(scored.frame) == len(table)


def test_score_events_matches_pipeline_evaluation(silver, model, latest_run):
    eval_source, eval_data = latest_run["cybersec-ml-eval"]
    metrics = read_evaluation(eval_data, eval_source)

    scored = score_events(silver[1], model, silver[0])

    scores = scored.frame["raw_score"]
    assert scored.frame["flagged"].mean() == pytest.approx(metrics["anomaly_rate"])
    assert scores.mean() == pytest.approx(metrics["score_mean"])
    assert scores.std(ddof=0) == pytest.approx(metrics["score_std"])


def test_score_events_handles_infinite_and_missing_rates(silver, model):
    table = silver[1].head(4).assign(
        bytes=[10, 0, 2000, 5], duration=[0.0, 0.0, 2.0, np.nan],
        bytes_per_second=[np.inf, np.nan, 1000.0, np.nan])

    scored = score_events(table, model, silver[0])

    assert np.isfinite(scored.frame["raw_score"]).all()
    expected = model.estimator.decision_function(
        [[10, 0, 0], [0, 0, 0], [2000, 2, 1000], [5, 0, 0]])
    np.testing.assert_array_equal(scored.frame["raw_score"], expected)


def test_score_events_derives_rate_when_absent(silver, model):
    table = silver[1].drop(columns="bytes_per_second")

    derived = score_events(table, model, silver[0])
    given = score_events(silver[1], model, silver[0])

    np.testing.assert_array_equal(derived.frame["raw_score"],
                                  given.frame["raw_score"])


def test_score_events_missing_feature_raises_naming_both(silver, model):
    source, table = silver
    buffer = io.BytesIO()
    joblib.dump({"model": model.estimator,
                 "feature_cols": ["bytes", "duration", "packets"]}, buffer)
    legacy = read_model(buffer.getvalue(), "models/legacy.joblib")

    with pytest.raises(ScoringError) as failed:
        score_events(table, legacy, source)

    message = str(failed.value)
    assert "models/legacy.joblib" in message
    assert source in message
    assert "packets" in message


def test_score_events_model_without_decision_function_raises(silver, model):
    plain = replace(model, estimator=pd.Series(dtype=float))

    with pytest.raises(ScoringError, match="no decision_function"):
        score_events(silver[1], plain, silver[0])


def test_score_events_reads_float_byte_counts(silver, model):
    # Missing byte counts turn the column to float; every feature is then
    # float64 and pandas hands out a read-only array.
    source, table = silver
    floats = table.assign(bytes=table["bytes"].astype("float64"))
    floats.loc[floats.index[:5], "bytes"] = np.nan

    scored = score_events(floats, model, source)

    assert len(scored.frame) == len(table)
    assert np.isfinite(scored.frame["raw_score"]).all()


def test_score_events_with_text_bytes_names_no_python_error(silver, model):
    source, table = silver
    texts = table.drop(columns=["bytes_per_second"]).assign(
        bytes=table["bytes"].astype(str).where(table.index > 0, "abc"))

    scored = score_events(texts, model, source)

    assert len(scored.frame) == len(table)
