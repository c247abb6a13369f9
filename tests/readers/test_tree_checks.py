"""Trees whose arrays point outside themselves are refused before scoring;
scikit-learn would read outside its memory with them and crash the server."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest

from components.readers import read_model
from components.readers.tree_checks import MalformedModelError, check_trees

SOURCE = "cybersec-ml-models/model_isoforest_20190101_000000.pkl"


@pytest.fixture(scope="module")
def forest_bytes() -> bytes:
    rows = np.random.default_rng(1).normal(size=(300, 3))
    return pickle.dumps(IsolationForest(n_estimators=5, random_state=0).fit(rows))


def tampered(forest_bytes: bytes, field: str, value: int) -> bytes:
    """The forest with one node field of its first tree's root changed."""
    # Trusted bytes: this test pickled them a moment ago.
    forest = pickle.loads(forest_bytes)
    tree = forest.estimators_[0].tree_
    state = tree.__getstate__()
    state["nodes"][field][0] = value
    tree.__setstate__(state)
    return pickle.dumps(forest)


def test_a_fitted_forest_passes_every_tree(forest_bytes):
    model = read_model(forest_bytes, SOURCE)

    assert check_trees(model.estimator, SOURCE) == 5


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("left_child", 2**40, "child outside the tree"),
    ("right_child", 2**40, "child outside the tree"),
    ("left_child", 0, "above itself"),
    ("feature", 2**40, "feature outside its 3"),
    ("feature", -7, "feature outside its 3"),
    ("right_child", -1, "only one child"),
])
def test_a_tampered_tree_is_refused_naming_the_object(forest_bytes, field, value,
                                                      reason):
    data = tampered(forest_bytes, field, value)

    with pytest.raises(MalformedModelError) as refused:
        read_model(data, SOURCE)

    assert f"'{SOURCE}' was refused: tree 0" in str(refused.value)
    assert reason in str(refused.value)


def test_a_checked_model_still_scores(forest_bytes):
    model = read_model(forest_bytes, SOURCE)
    scores = model.estimator.decision_function(np.zeros((4, 3)))

    assert np.isfinite(scores).all()
