"""Models load; pickles that would run code are refused before they can."""

import builtins
import io
import os
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import IsolationForest

from components.readers import UnsafeModelError
from components.readers.safe_pickle import MAX_ARRAY_BYTES, restricted_load

SOURCE = "cybersec-ml-models/model_isoforest_20181222_145000.pkl"


class Payload:
    """Unpickles as ``function(*arguments)``: what an attacker would store."""

    def __init__(self, function, *arguments):
        self.function = function
        self.arguments = arguments

    def __reduce__(self):
        return self.function, self.arguments


def payloads(marker) -> dict[str, Payload]:
    """Each one creates ``marker`` if it is ever called."""
    create = f"open({str(marker)!r}, 'w').close()"
    return {
        "system": Payload(os.system, f"touch '{marker}'"),
        "Popen": Payload(subprocess.Popen, ["touch", str(marker)]),
        "eval": Payload(builtins.eval, create),
        "exec": Payload(builtins.exec, create),
        "__import__": Payload(builtins.__import__, "os"),
    }


def qualified(function) -> str:
    return f"{function.__module__}.{function.__qualname__}"


@pytest.fixture(scope="module")
def forest():
    rows = np.random.default_rng(7).normal(size=(200, 3))
    return IsolationForest(n_estimators=10, random_state=42).fit(rows)


def test_restricted_load_reads_plain_isolation_forest_pickle(latest_run):
    source, data = latest_run["cybersec-ml-models"]

    model = restricted_load(data, source)

    assert model.get_params() == pickle.loads(data).get_params()
    rows = np.array([[0.0, 0.0, 0.0], [75e6, 49e3, 1e9]])
    np.testing.assert_array_equal(model.decision_function(rows),
                                  pickle.loads(data).decision_function(rows))


@pytest.mark.parametrize("compress", [0, 3, ("gzip", 3), ("lzma", 3)])
def test_restricted_load_reads_joblib_model_dict(forest, tmp_path, compress):
    path = tmp_path / "model.joblib"
    joblib.dump({"model": forest, "feature_cols": ["bytes", "duration", "rate"]},
                path, compress=compress)

    loaded = restricted_load(path.read_bytes(), str(path))

    assert loaded["feature_cols"] == ["bytes", "duration", "rate"]
    rows = np.ones((2, 3))
    np.testing.assert_array_equal(loaded["model"].decision_function(rows),
                                  forest.decision_function(rows))


@pytest.mark.parametrize("kind", list(payloads("marker")))
def test_restricted_load_refuses_code_execution(tmp_path, kind):
    marker = tmp_path / "pwned"
    payload = payloads(marker)[kind]
    data = pickle.dumps({"model": payload})

    with pytest.raises(UnsafeModelError) as refused:
        restricted_load(data, SOURCE)

    assert SOURCE in str(refused.value)
    assert qualified(payload.function) in str(refused.value)
    assert not marker.exists()


@pytest.mark.parametrize("kind", list(payloads("marker")))
def test_payloads_do_run_under_plain_pickle(tmp_path, kind):
    """Control: the refused payloads are live, so refusing them means something."""
    marker = tmp_path / "pwned"
    payload = payloads(marker)[kind]

    result = pickle.loads(pickle.dumps(payload))

    if isinstance(result, subprocess.Popen):
        result.wait(timeout=10)
    if kind == "__import__":
        assert result is os
    else:
        assert marker.exists()


def test_restricted_load_refuses_payload_in_joblib_object_array(tmp_path):
    marker = tmp_path / "pwned"
    hidden = np.array([payloads(marker)["eval"]], dtype=object)
    buffer = io.BytesIO()
    joblib.dump({"model": None, "feature_cols": hidden}, buffer)

    with pytest.raises(UnsafeModelError, match=r"builtins\.eval"):
        restricted_load(buffer.getvalue(), SOURCE)
    assert not marker.exists()


def test_restricted_load_refuses_sklearn_function_that_is_no_estimator():
    payload = Payload(clone, None)

    with pytest.raises(UnsafeModelError, match=r"sklearn\.base\.clone"):
        restricted_load(pickle.dumps(payload), SOURCE)


def test_pickle_cannot_allocate_a_huge_buffer():
    # 36 bytes that would allocate 1.5 GB through builtins.bytearray.
    bomb = b"cbuiltins\nbytearray\n(I1500000000\ntR."
    with pytest.raises(UnsafeModelError, match=r"builtins\.bytearray"):
        restricted_load(bomb, "bomb.pkl")


def test_joblib_array_over_the_limit_is_refused_before_it_is_read():
    buffer = io.BytesIO()
    joblib.dump({"model": np.zeros(MAX_ARRAY_BYTES // 8 + 1)}, buffer, compress=3)
    assert len(buffer.getvalue()) < MAX_ARRAY_BYTES // 100  # small on disk
    with pytest.raises(UnsafeModelError, match="over the"):
        restricted_load(buffer.getvalue(), "zeros.joblib")


@pytest.mark.parametrize(("payload", "reason"), [
    # A few bytes that would allocate 2 GB and keep the loader busy a minute.
    (Payload(np.ndarray, (2_000_000_000,), "u1"), "constructs an array from a shape"),
    (Payload(frozenset, np.zeros(1_000)), "builds a frozenset from an array"),
    (Payload(set, np.zeros(1_000)), "builds a set from an array"),
])
def test_allowed_names_called_as_bombs_are_refused(payload, reason):
    data = pickle.dumps({"model": payload})

    with pytest.raises(UnsafeModelError) as refused:
        restricted_load(data, SOURCE)

    assert f"'{SOURCE}' was refused: it {reason}" in str(refused.value)


def test_modules_outside_the_estimator_packages_are_not_even_imported():
    data = b"\x80\x02csklearn.utils._testing\nTempMemmap\n."
    sys.modules.pop("sklearn.utils._testing", None)

    with pytest.raises(UnsafeModelError, match=r"sklearn\.utils\._testing\.TempMemmap"):
        restricted_load(data, SOURCE)

    assert "sklearn.utils._testing" not in sys.modules
