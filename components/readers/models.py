"""Read a trained model from the store and describe it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .safe_pickle import UnsafeModelError, restricted_load
from .tree_checks import check_trees

# The pipeline trains on these silver columns; used when a model names none.
PIPELINE_FEATURES = ("bytes", "duration", "bytes_per_second")


class ModelReadError(ValueError):
    """The object is not a model this dashboard can use."""


@dataclass(frozen=True)
class ModelArtifact:
    """A fitted estimator and the feature columns it expects, in order."""

    estimator: Any
    feature_names: tuple[str, ...]
    source: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def can_score(self) -> bool:
        return hasattr(self.estimator, "decision_function")


def read_model(data: bytes, source: str) -> ModelArtifact:
    """Parse a pickle or joblib model, plain or as ``{"model", "feature_cols"}``."""
    loaded = _unpickle(data, source)
    estimator, named_features = _unwrap(loaded, source)
    check_trees(estimator, source)
    features = _feature_names(estimator, named_features, source)
    return ModelArtifact(
        estimator=estimator,
        feature_names=features,
        source=source,
        details=describe_estimator(estimator),
    )


def _unpickle(data: bytes, source: str) -> Any:
    if not data:
        raise ModelReadError(f"'{source}' is empty (0 bytes)")
    try:
        return restricted_load(data, source)
    except UnsafeModelError:
        raise
    except Exception as exc:
        # Truncated or foreign bytes fail deep inside pickle with bare codes.
        reason = f"{type(exc).__name__}: {str(exc)[:120]}"
        raise ModelReadError(
            f"'{source}' is not a readable pickle or joblib model ({reason})"
        ) from exc


def _unwrap(loaded: Any, source: str) -> tuple[Any, list[str] | None]:
    if isinstance(loaded, dict):
        if "model" not in loaded:
            keys = ", ".join(sorted(map(str, loaded))) or "none"
            raise ModelReadError(
                f"'{source}' holds a dict without a 'model' entry (keys: {keys})"
            )
        columns = loaded.get("feature_cols")
        named = [str(c) for c in columns] if columns is not None else None
        return loaded["model"], named
    return loaded, None


def _feature_names(estimator, named: list[str] | None, source: str) -> tuple:
    if named:
        return tuple(named)
    learned = getattr(estimator, "feature_names_in_", None)
    if learned is not None:
        return tuple(str(name) for name in learned)
    width = getattr(estimator, "n_features_in_", None)
    if width == len(PIPELINE_FEATURES) or width is None:
        return PIPELINE_FEATURES
    raise ModelReadError(
        f"'{source}' expects {width} unnamed features; only the pipeline's "
        f"{len(PIPELINE_FEATURES)} ({', '.join(PIPELINE_FEATURES)}) can be guessed"
    )


def describe_estimator(estimator: Any) -> dict[str, Any]:
    """What an analyst wants to know about a fitted model, as plain values."""
    details: dict[str, Any] = {"class": type(estimator).__name__}
    trees = getattr(estimator, "estimators_", None)
    if trees is not None:
        details["trees"] = len(trees)
    for attribute, label in (
        ("max_samples_", "samples per tree"),
        ("n_features_in_", "features"),
        ("offset_", "decision offset"),
    ):
        value = getattr(estimator, attribute, None)
        if value is not None:
            details[label] = _plain(value)
    if hasattr(estimator, "get_params"):
        details["parameters"] = {
            key: _plain(value)
            for key, value in sorted(estimator.get_params(deep=False).items())
        }
    return details


def _plain(value: Any) -> Any:
    """NumPy scalars to Python ones so they display and serialise cleanly."""
    return value.item() if hasattr(value, "item") else value
