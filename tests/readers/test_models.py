import io
import pickle
import re

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import IsolationForest

from components.readers import ModelReadError, UnsafeModelError, read_model
from components.readers.models import PIPELINE_FEATURES

SOURCE = "cybersec-ml-models/model.pkl"


def fitted_forest(columns: int = 3, named: bool = False) -> IsolationForest:
    rows = np.random.default_rng(3).normal(size=(100, columns))
    data = pd.DataFrame(rows, columns=[f"f{i}" for i in range(columns)]) if named \
        else rows
    return IsolationForest(n_estimators=5, random_state=42).fit(data)


def joblib_bytes(value) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(value, buffer)
    return buffer.getvalue()


def test_read_model_pipeline_pickle_uses_pipeline_features(latest_run):
    source, data = latest_run["cybersec-ml-models"]

    model = read_model(data, source)

    assert model.source == source
    assert model.feature_names == PIPELINE_FEATURES
    assert model.can_score
    assert model.details["class"] == "IsolationForest"
    assert model.details["trees"] == 100
    assert model.details["parameters"]["contamination"] == "auto"
    assert model.details["parameters"]["random_state"] == 42


def test_read_model_joblib_dict_takes_feature_cols():
    data = joblib_bytes({"model": fitted_forest(2), "feature_cols": ["a", "b"]})

    model = read_model(data, "m.joblib")

    assert model.feature_names == ("a", "b")
    assert isinstance(model.estimator, IsolationForest)


def test_read_model_dataframe_fit_uses_learned_names():
    model = read_model(pickle.dumps(fitted_forest(4, named=True)), SOURCE)

    assert model.feature_names == ("f0", "f1", "f2", "f3")


def test_read_model_dict_without_model_raises_naming_object():
    data = joblib_bytes({"estimator": fitted_forest(), "feature_cols": ["a"]})

    with pytest.raises(ModelReadError, match=r"'m\.joblib'.*estimator"):
        read_model(data, "m.joblib")


def test_read_model_unnamed_features_of_other_width_raise():
    with pytest.raises(ModelReadError, match="expects 5 unnamed features"):
        read_model(pickle.dumps(fitted_forest(5)), SOURCE)


def test_read_model_refuses_unsafe_pickle():
    with pytest.raises(UnsafeModelError, match=re.escape(SOURCE)):
        read_model(pickle.dumps(print), SOURCE)


def test_read_model_details_are_plain_python_values(latest_run):
    source, data = latest_run["cybersec-ml-models"]

    details = read_model(data, source).details

    assert type(details["decision offset"]) is float
    assert type(details["features"]) is int
