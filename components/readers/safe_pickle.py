"""Unpickle models without running code that came from the store.

A pickle names the callables it wants called while it loads. The old UI let it
name anything (``os.system`` included). This loader resolves only an explicit
allow-list: the classes a fitted scikit-learn estimator, NumPy and SciPy need,
and joblib's array wrapper. Anything else stops the load before it is imported.
"""

from __future__ import annotations

import importlib
import io
import pickle

import numpy as np
from joblib import numpy_pickle

# (module, name) pairs that may be resolved, whatever else the pickle asks for.
ALLOWED_GLOBALS = frozenset({
    ("builtins", "complex"),
    ("builtins", "frozenset"),
    ("builtins", "set"),
    ("builtins", "slice"),
    ("collections", "OrderedDict"),
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy.random._pickle", "__randomstate_ctor"),
    ("numpy.random._pickle", "__bit_generator_ctor"),
    ("numpy.random._mt19937", "MT19937"),
    ("numpy.random.mtrand", "RandomState"),
    ("scipy.sparse._csr", "csr_matrix"),
    ("scipy.sparse._csc", "csc_matrix"),
    ("scipy.sparse._csr", "csr_array"),
    ("scipy.sparse._csc", "csc_array"),
    ("joblib.numpy_pickle", "NumpyArrayWrapper"),
    ("sklearn.tree._tree", "Tree"),
    ("sklearn.neighbors._kd_tree", "KDTree"),
    ("sklearn.neighbors._ball_tree", "BallTree"),
})

# The largest array a model file may unpack to; a small compressed file could
# otherwise expand to gigabytes. A fitted IsolationForest's largest is < 1 MB.
MAX_ARRAY_BYTES = 256 * 2**20

_RECONSTRUCT = np._core.multiarray._reconstruct

# scikit-learn packages whose estimator classes a model may be made of.
ESTIMATOR_PACKAGES = frozenset({
    "sklearn.cluster", "sklearn.compose", "sklearn.covariance",
    "sklearn.decomposition", "sklearn.ensemble", "sklearn.feature_selection",
    "sklearn.impute", "sklearn.kernel_approximation", "sklearn.linear_model",
    "sklearn.manifold", "sklearn.mixture", "sklearn.neighbors",
    "sklearn.neural_network", "sklearn.pipeline", "sklearn.preprocessing",
    "sklearn.random_projection", "sklearn.svm", "sklearn.tree",
})

# NumPy scalar types are looked up by name under these modules (``numpy.float64``).
NUMPY_SCALAR_MODULES = frozenset({"numpy"})


class UnsafeModelError(pickle.UnpicklingError):
    """The object asked to load something outside the allow-list."""


def resolve_allowed(module: str, name: str, source: str) -> object:
    """Return ``module.name`` if the allow-list admits it; refuse otherwise."""
    if (module, name) in ALLOWED_GLOBALS:
        return getattr(importlib.import_module(module), name)
    if module in NUMPY_SCALAR_MODULES:
        return _numpy_scalar_type(module, name, source)
    if module == "sklearn" or module.startswith("sklearn."):
        return _sklearn_estimator(module, name, source)
    raise UnsafeModelError(_refusal(source, module, name))


def _numpy_scalar_type(module: str, name: str, source: str) -> type:
    import numpy as np

    candidate = getattr(np, name, None)
    if isinstance(candidate, type) and issubclass(candidate, np.generic):
        return candidate
    raise UnsafeModelError(_refusal(source, module, name))


def _sklearn_estimator(module: str, name: str, source: str) -> type:
    from sklearn.base import BaseEstimator

    # Importing a module runs it: only the packages that hold estimators are
    # imported on a pickle's say-so, never test helpers or utilities.
    package = ".".join(module.split(".")[:2])
    if package not in ESTIMATOR_PACKAGES or "test" in module:
        raise UnsafeModelError(_refusal(source, module, name))
    try:
        candidate = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise UnsafeModelError(
            f"'{source}' needs {module}.{name}, which this scikit-learn lacks"
        ) from exc
    if isinstance(candidate, type) and issubclass(candidate, BaseEstimator):
        return candidate
    raise UnsafeModelError(_refusal(source, module, name))


def _refusal(source: str, module: str, name: str) -> str:
    return (
        f"'{source}' was refused: it tries to load {module}.{name}, which is not "
        "a scikit-learn, NumPy or SciPy class the model reader allows"
    )


class RestrictedUnpickler(numpy_pickle.NumpyUnpickler):
    """joblib's unpickler (it also reads plain pickles) behind the allow-list."""

    dispatch = numpy_pickle.NumpyUnpickler.dispatch.copy()

    def __init__(self, file_handle, source: str):
        super().__init__("", file_handle, ensure_native_byte_order=True)
        self.source = source

    def find_class(self, module: str, name: str) -> object:
        return resolve_allowed(module, name, self.source)

    def load_build(self):
        pickle._Unpickler.load_build(self)
        wrapper = self.stack[-1]
        if not isinstance(wrapper, numpy_pickle.NumpyArrayWrapper):
            return
        self.stack.pop()
        size = int(np.prod(wrapper.shape, dtype=np.int64)) * wrapper.dtype.itemsize
        if size > MAX_ARRAY_BYTES:
            raise UnsafeModelError(
                f"'{self.source}' was refused: it holds an array of {size:,} "
                f"bytes, over the {MAX_ARRAY_BYTES:,}-byte limit for models")
        if wrapper.dtype.hasobject:
            # Object arrays are a nested pickle; some joblib releases read it
            # without restriction, so it goes through the allow-list here.
            nested = _NestedUnpickler(self.file_handle, self.source)
            self.stack.append(nested.load())
        else:
            self.stack.append(wrapper.read(self, self.ensure_native_byte_order))

    dispatch[pickle.BUILD[0]] = load_build

    def load_reduce(self):
        function, arguments = self.stack[-2], self.stack[-1]
        refusal = _call_refusal(function, arguments)
        if refusal:
            raise UnsafeModelError(f"'{self.source}' was refused: it {refusal}")
        pickle._Unpickler.load_reduce(self)

    dispatch[pickle.REDUCE[0]] = load_reduce


# Builtins that walk their argument: fed a large array, again and again from
# the memo, they keep the loader busy for minutes on a file of a few bytes.
WALKING_BUILTINS = (set, frozenset, complex)


def _call_refusal(function, arguments) -> str:
    """Why the pickle may not make this call of an allowed name; '' if it may.

    Arrays are restored through ``_reconstruct`` and their bytes; a model
    never calls ``numpy.ndarray(shape)``, which would allocate whatever
    shape a few bytes ask for.
    """
    if function is np.ndarray:
        return "constructs an array from a shape instead of from its data"
    if function is _RECONSTRUCT and len(arguments) > 1:
        elements = int(np.prod(np.asarray(arguments[1], dtype=np.int64)))
        if elements > MAX_ARRAY_BYTES:
            return f"asks for an array of {elements:,} elements"
    if function in WALKING_BUILTINS and any(
            isinstance(argument, np.ndarray) for argument in arguments):
        return f"builds a {function.__name__} from an array"
    return ""


class _NestedUnpickler(pickle._Unpickler):
    """Object arrays' nested pickles: the same allow-list and call checks."""

    dispatch = pickle._Unpickler.dispatch.copy()

    def __init__(self, file_handle, source: str):
        super().__init__(file_handle)
        self.source = source

    def find_class(self, module: str, name: str) -> object:
        return resolve_allowed(module, name, self.source)

    load_reduce = RestrictedUnpickler.load_reduce
    dispatch[pickle.REDUCE[0]] = load_reduce


def restricted_load(data: bytes, source: str) -> object:
    """Load a pickle or joblib file (any joblib compression) from ``data``."""
    buffer = io.BytesIO(data)
    with numpy_pickle._validate_fileobject_and_memmap(buffer, source) as (fobj, _):
        if isinstance(fobj, str):
            raise UnsafeModelError(
                f"'{source}' uses the joblib format from before 0.10, "
                "which is not supported"
            )
        return RestrictedUnpickler(fobj, source).load()
