"""Normalise per-event tables to one schema with one notion of risk.

Whatever wrote the scores, the views see the same columns: ``timestamp`` (UTC),
``src_ip``, ``dst_ip``, ``protocol``, ``bytes``, ``duration``, ``raw_score`` as
written, ``risk`` (higher is more anomalous) and ``flagged`` (the producer's
own verdict, where it gave one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Score columns we know, with the sign that turns them into risk.
# ``anomaly_score`` is scikit-learn's decision_function: lower is more anomalous.
SCORE_COLUMNS = {"anomaly_score": -1.0, "ml_score": 1.0, "score": 1.0}

# Synonyms the pipeline's versions used, mapped to the normalised names.
COLUMN_ALIASES = {
    "dest_ip": "dst_ip",
    "prediction": "flagged",
    "ml_is_outlier": "flagged",
}

EVENT_COLUMNS = ("timestamp", "src_ip", "dst_ip", "protocol", "bytes", "duration")
CATEGORICAL_COLUMNS = ("src_ip", "dst_ip", "protocol", "host", "user")
KEPT_EXTRA_COLUMNS = ("host", "user", "action", "label", "detailed_label")


class EventsReadError(ValueError):
    """The table cannot be read as scored events; the message says why."""


@dataclass(frozen=True)
class ScoredEvents:
    """Normalised events, where they came from and how their score reads."""

    frame: pd.DataFrame
    source: str
    score_column: str
    default_threshold: float
    model_source: str | None = None
    """The stored model that scored these events here, if this app scored them."""


def score_column_of(columns) -> str | None:
    """The first known score column present, or None."""
    return next((name for name in SCORE_COLUMNS if name in columns), None)


def normalise_events(raw: pd.DataFrame, source: str,
                     score_label: str | None = None) -> ScoredEvents:
    """Map a scored table to the normalised schema; raise if it has no score."""
    score_column = score_column_of(raw.columns)
    if score_column is None:
        raise EventsReadError(
            f"'{source}' has no score column (looked for "
            f"{', '.join(SCORE_COLUMNS)}; found {', '.join(map(str, raw.columns))})"
        )
    events = normalised_frame(raw, source, score_column)
    label = score_label or score_column
    return ScoredEvents(events, source, label, default_threshold(events, label))


def normalised_frame(raw: pd.DataFrame, source: str, score_column: str,
                     require_scores: bool = True) -> pd.DataFrame:
    """The events of ``raw`` in the normalised schema, scored by
    ``score_column``.

    With ``require_scores`` a table without one usable score is refused; a
    part of a larger table (a Dask partition) may have none, so its reader
    checks the table as a whole instead.
    """
    try:
        return _normalised(raw, source, score_column, require_scores)
    except EventsReadError:
        raise
    except Exception as exc:
        # Whatever else an odd table trips over is still named with it.
        raise EventsReadError(
            f"'{source}' could not be read as events: {type(exc).__name__}: "
            f"{str(exc)[:200]}") from exc


def _normalised(raw: pd.DataFrame, source: str, score_column: str,
                require_scores: bool) -> pd.DataFrame:
    repeated = raw.columns[raw.columns.duplicated()].unique()
    if len(repeated):
        raise EventsReadError(
            f"'{source}' has more than one column named "
            f"{', '.join(map(str, repeated))}")
    # A newer name wins over an older one for the same thing (``dst_ip``
    # over ``dest_ip``); of two older names, the first in the frame, which
    # the catalog reads with ``prediction`` before ``ml_is_outlier``.
    frame = raw.rename(columns={old: new for old, new in COLUMN_ALIASES.items()
                                if new not in raw.columns})
    frame = frame.loc[:, ~frame.columns.duplicated()]
    events = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    events["timestamp"] = to_utc(frame["timestamp"]) if "timestamp" in frame else (
        pd.Series(pd.NaT, index=events.index, dtype="datetime64[ns, UTC]"))
    for name in ("src_ip", "dst_ip", "protocol"):
        events[name] = _text(frame[name]) if name in frame else "unknown"
    for name in ("bytes", "duration"):
        events[name] = (pd.to_numeric(frame[name], errors="coerce")
                        if name in frame else np.nan)
    raw_score = _scores(frame[score_column], source, score_column, require_scores)
    events["raw_score"] = raw_score.to_numpy()
    events["risk"] = (SCORE_COLUMNS[score_column] * raw_score).to_numpy()
    events["flagged"] = _flags(frame)
    for name in KEPT_EXTRA_COLUMNS:
        if name in frame:
            events[name] = _text(frame[name])
    for name in CATEGORICAL_COLUMNS:
        if name in events:
            events[name] = events[name].astype("category")
    return events


def default_threshold(events: pd.DataFrame, score_column: str) -> float:
    """Where alerts start before the analyst moves the threshold.

    For decision-function scores the model's own boundary (risk 0); otherwise
    the lowest risk the producer flagged, or the 99th percentile of risk.
    """
    risk = events["risk"].to_numpy()
    finite = risk[np.isfinite(risk)]
    if finite.size == 0:
        return 0.0
    if score_column.startswith("anomaly_score"):
        return 0.0
    flagged = events["flagged"].fillna(False).to_numpy(dtype=bool)
    flagged_risk = risk[flagged & np.isfinite(risk)]
    if flagged_risk.size:
        return float(flagged_risk.min())
    return float(np.quantile(finite, 0.99))


# Epoch numbers above these magnitudes are milli-, micro- and nanoseconds:
# 1e11 seconds is the year 5138, 1e11 milliseconds 1973.
EPOCH_UNITS = ((1e17, "ns"), (1e14, "us"), (1e11, "ms"))


def to_utc(values: pd.Series) -> pd.Series:
    """Timestamps as UTC: naive ones are taken as UTC, numbers as epoch time
    in seconds, or in ms, us or ns where their magnitude says so."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    if pd.api.types.is_numeric_dtype(values):
        typical = values.abs().median()
        unit = next((u for limit, u in EPOCH_UNITS if typical > limit), "s")
        return pd.to_datetime(values, unit=unit, utc=True, errors="coerce")
    return pd.to_datetime(values, utc=True, errors="coerce", format="mixed")


def _scores(values: pd.Series, source: str, column: str,
            required: bool = True) -> pd.Series:
    """Scores as floats; a column with no number at all is refused when
    ``required``."""
    scores = pd.to_numeric(values, errors="coerce").astype(float)
    if required and not np.isfinite(scores.to_numpy()).any():
        unreadable = values[scores.isna() & values.notna()]
        example = (f", such as {str(unreadable.iloc[0])[:40]!r}"
                   if len(unreadable) else "")
        raise EventsReadError(
            f"'{source}': column '{column}' holds no usable score "
            f"({len(unreadable):,} values that are not numbers{example}; "
            f"{int(np.isinf(scores).sum()):,} infinite; "
            f"{int(values.isna().sum()):,} missing)")
    return scores


def _text(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return _text_categories(values)
    return values.astype("string").fillna("unknown").astype(str)


def _text_categories(values: pd.Series) -> pd.Series:
    """Text of a categorical, converted per category rather than per row;
    missing values become "unknown", as in any other text column."""
    categories = values.cat.categories.astype(str)
    if not categories.is_unique:
        return values.astype("string").fillna("unknown").astype(str)
    codes = values.cat.codes.to_numpy()
    missing = codes < 0
    if missing.any():
        if "unknown" not in categories:
            categories = categories.append(pd.Index(["unknown"]))
        codes = np.where(missing, categories.get_loc("unknown"), codes)
    return pd.Series(pd.Categorical.from_codes(codes, categories=categories),
                     index=values.index)


def _flags(frame: pd.DataFrame) -> pd.Series:
    if "flagged" not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="boolean")
    flags = frame["flagged"]
    if pd.api.types.is_numeric_dtype(flags):
        return (pd.to_numeric(flags, errors="coerce") > 0).astype("boolean")
    words = flags.astype("string").str.strip().str.lower()
    return words.isin(["1", "true", "yes", "outlier", "anomaly"]).astype("boolean")
