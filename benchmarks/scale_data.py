"""Score tables of any size, resampled from the real IoT-23 Zeek rows.

The sample's 23,145 rows are scored once by the demo pipeline's own
IsolationForest. A table of N rows draws N of them with replacement (seeded, so
every run builds the same bytes) and jitters what varies between flows: the
time, the bytes, the duration and the score. Columns keep the sample's types,
and the table is written as Parquet through s3fs, the filesystem the app reads
with.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from components.readers.scoring import model_features
from demo.build_store import FEATURES, RAW_COLUMNS, load_sample, to_silver, train_model

SEED = 20181221

# Half-widths and spreads of the jitter. A flow moves by up to 30 s; its bytes
# and duration scale by a log-normal factor (zero stays zero: an unmeasured flow
# stays unmeasured, as 77 % of the real ones are); its score moves by about
# 0.002, enough to make the 945 distinct scores of the sample distinct per row.
TIME_JITTER_US = 30_000_000
SIZE_SPREAD = 0.1
SCORE_SPREAD = 0.002

SCORE_SCHEMA = pa.schema([
    ("timestamp", pa.timestamp("us", tz="UTC")),
    ("src_ip", pa.string()), ("dst_ip", pa.string()), ("protocol", pa.string()),
    ("bytes", pa.int64()), ("duration", pa.float64()),
    ("bytes_per_second", pa.float64()),
    ("anomaly_score", pa.float64()), ("prediction", pa.int64()),
])

SIZE_SUFFIXES = {"": 1, "k": 1_000, "m": 1_000_000}


@dataclass(frozen=True)
class ScaleTable:
    """One written score table and what it costs to hold."""

    rows: int
    path: str
    """``bucket/name`` of the object in the store."""
    object_bytes: int
    """Size of the Parquet object."""
    arrow_bytes: int
    """Size of the table in memory as Arrow, with the columns as written."""
    build_seconds: float
    """Time to resample the rows (not to write them)."""


def parse_size(text: str) -> int:
    """``100k``, ``1M``, ``10M`` or a plain number of rows."""
    match = re.fullmatch(r"\s*(\d+)\s*([kKmM]?)\s*", text)
    if match is None:
        raise ValueError(f"not a number of rows: {text!r}")
    return int(match[1]) * SIZE_SUFFIXES[match[2].lower()]


def size_label(rows: int) -> str:
    """The short name of a size: 100k, 1M, 10M."""
    for suffix, factor in (("M", 1_000_000), ("k", 1_000)):
        if rows % factor == 0 and rows >= factor:
            return f"{rows // factor}{suffix}"
    return str(rows)


def scored_sample() -> pd.DataFrame:
    """The real rows in the raw schema, scored by the demo pipeline's model."""
    raw = load_sample()[list(RAW_COLUMNS)]
    silver = to_silver(raw)
    features = model_features(silver, FEATURES)
    return raw.assign(anomaly_score=train_model(silver).decision_function(features))


def resample(sample: pd.DataFrame, rows: int, seed: int = SEED) -> pa.Table:
    """``rows`` rows drawn from ``sample`` with jitter; vectorised throughout."""
    random = np.random.default_rng([seed, rows])
    picks = random.integers(0, len(sample), size=rows)
    times = _epoch_us(sample["timestamp"])[picks] + random.integers(
        -TIME_JITTER_US, TIME_JITTER_US + 1, size=rows)
    sizes = sample["bytes"].to_numpy(dtype="float64")[picks] * _factors(random, rows)
    volume = np.rint(sizes).astype("int64")
    duration = sample["duration"].to_numpy(dtype="float64")[picks] * _factors(
        random, rows)
    score = sample["anomaly_score"].to_numpy()[picks] + random.normal(
        0.0, SCORE_SPREAD, size=rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = volume / duration
    columns = {
        "timestamp": pa.array(times, type=SCORE_SCHEMA.field("timestamp").type),
        **{name: _take_text(sample[name], picks)
           for name in ("src_ip", "dst_ip", "protocol")},
        "bytes": volume, "duration": duration, "bytes_per_second": rate,
        "anomaly_score": score, "prediction": (score < 0).astype("int64"),
    }
    return pa.table(columns, schema=SCORE_SCHEMA)


def write_table(fs, table: pa.Table, path: str) -> int:
    """Write ``table`` as Parquet to ``path`` on ``fs``; the object's size."""
    with fs.open(path, "wb") as target:
        pq.write_table(table, target)
    return int(fs.info(path)["size"])


def build_table(fs, sample: pd.DataFrame, rows: int, path: str) -> ScaleTable:
    """Resample ``rows`` rows, write them to ``path`` and record their sizes."""
    started = time.perf_counter()
    table = resample(sample, rows)
    built = time.perf_counter() - started
    object_bytes = write_table(fs, table, path)
    return ScaleTable(rows=rows, path=path, object_bytes=object_bytes,
                      arrow_bytes=table.nbytes, build_seconds=built)


def _epoch_us(times: pd.Series) -> np.ndarray:
    return times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(
        dtype="datetime64[us]").astype("int64")


def _factors(random: np.random.Generator, rows: int) -> np.ndarray:
    return random.lognormal(0.0, SIZE_SPREAD, size=rows)


def _take_text(values: pd.Series, picks: np.ndarray) -> pa.Array:
    """The picked strings, gathered by Arrow rather than as Python objects."""
    return pa.array(values.astype(str).to_numpy(dtype=object), type=pa.string()
                    ).take(pa.array(picks))
