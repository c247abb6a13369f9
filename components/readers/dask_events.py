"""Score tables read by a Dask cluster and kept in its workers' memory.

A table too large for the app's process is read from the store by the
workers, a partition (a Parquet part, or some of its row groups) at a time,
normalised there exactly as a table read here is (``normalised_frame``), and
persisted. This process keeps a handle to the partitions and a few numbers:
the rows per partition and the default threshold, never the rows themselves.

Dask is imported inside the functions that need it: it is an optional
dependency, and this module's class is named by code that runs without it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import get_logger
from .events import (
    SCORE_COLUMNS,
    EventsReadError,
    normalised_frame,
    score_column_of,
)

log = get_logger(__name__)

# Partial results merged per step of a tree on the workers, so that the
# process receives one merged answer rather than one per partition.
MERGE_FAN_IN = 8
# Parquet bytes per held partition: about three million events of the
# pipeline's columns, a few hundred MB once normalised.
PARTITION_BYTES = 64 * 2**20
# The default threshold of scores the producer did not flag: as in this
# process, the 99th percentile of risk.
UNFLAGGED_QUANTILE = 0.99


@dataclass(eq=False)
class DaskEvents:
    """Normalised events held by a Dask cluster, and how to compute on them."""

    frame: Any
    """The events as a Dask DataFrame persisted on the workers; each
    partition is normalised, in table order, indexed from 0."""

    source: str
    score_column: str
    default_threshold: float

    offsets: tuple[int, ...]
    """Row of the table where each partition starts, then the row count."""

    client: Any
    """The ``distributed.Client`` that holds the partitions."""

    timeout: float
    """Seconds one computation may take."""

    model_source: str | None = None
    """Always None: tables read by Dask carry their own scores."""

    derived: dict = field(default_factory=dict, repr=False)
    """What views derive from these events, kept exactly as long as they are."""

    @property
    def rows(self) -> int:
        return self.offsets[-1]

    @functools.cached_property
    def partitions(self) -> list:
        """One ``dask.delayed`` per persisted partition, in table order."""
        return self.frame.to_delayed()

    def compute(self, *tasks) -> list:
        """Run ``tasks`` (delayed objects) on the cluster; their results, or
        a ``TimeoutError`` naming the limit after ``timeout`` seconds."""
        return compute_on(self.client, list(tasks), self.timeout)


def compute_on(client: Any, tasks: list, timeout: float) -> list:
    """``tasks`` computed by ``client``'s cluster within ``timeout`` seconds."""
    from distributed import wait

    futures = client.compute(tasks)
    try:
        wait(futures, timeout=timeout)
    except TimeoutError as exc:
        client.cancel(futures)
        raise TimeoutError(
            f"the Dask cluster did not answer within {timeout:g} s "
            "(SOC_COPILOT_DASK_TIMEOUT)") from exc
    return client.gather(futures)


def read_dask_events(client: Any, paths: list[str], storage_options: dict,
                     source: str, columns: list[str], timeout: float,
                     part_bytes: int = 0) -> DaskEvents:
    """Read the Parquet objects at ``paths`` (``part_bytes`` each, on
    average) on the cluster as one table of scored events (``columns`` those
    worth reading, where present), and hold it there normalised."""
    import dask.dataframe as dd
    from dask.dataframe.utils import clear_known_categories

    raw = dd.read_parquet(paths, storage_options=storage_options)
    score_column = score_column_of(raw.columns)
    if score_column is None:
        raise EventsReadError(
            f"'{source}' has no score column (looked for "
            f"{', '.join(SCORE_COLUMNS)}; found {', '.join(map(str, raw.columns))})")
    raw = raw[[name for name in columns if name in raw.columns]]
    # Parts are often small (a writer's part per task): adjacent ones are
    # read as one partition, so that each pass has fewer, larger tasks.
    raw = raw.repartition(npartitions=_partitions(client, raw.npartitions,
                                                  part_bytes))
    # Each partition has categories of its own: none are known in advance.
    meta = clear_known_categories(normalised_part(raw._meta, source, score_column))
    frame = client.persist(raw.map_partitions(
        normalised_part, source, score_column, meta=meta))
    events = DaskEvents(frame=frame, source=source, score_column=score_column,
                        default_threshold=0.0, offsets=(0,), client=client,
                        timeout=timeout)
    facts = events.compute(*[_facts_of(part) for part in events.partitions])
    offsets = tuple(int(n) for n in np.cumsum([0] + [f["rows"] for f in facts]))
    events.offsets = offsets
    events.default_threshold = _default_threshold(events, facts)
    log.info("dask read table=%s rows=%d partitions=%d", source, events.rows,
             len(facts))
    return events


def _partitions(client: Any, read: int, part_bytes: int) -> int:
    """How many partitions to hold: parts of about ``PARTITION_BYTES`` of
    Parquet together, but at least two per worker thread while there are
    parts enough."""
    if part_bytes <= 0:
        return read
    threads = max(1, sum(client.nthreads().values()))
    per_partition = max(1, PARTITION_BYTES // part_bytes)
    wanted = max(math.ceil(read / per_partition), 2 * threads)
    return max(1, min(read, wanted))


def normalised_part(raw: pd.DataFrame, source: str,
                    score_column: str) -> pd.DataFrame:
    """One partition in the normalised schema, with time as naive UTC, as
    the table and the plots take it, and every text column categorical, so
    that its values are searched and ranked once each (on a worker)."""
    # Adjacent parts read as one partition repeat their row labels.
    raw = raw.reset_index(drop=True)
    events = normalised_frame(raw, source, score_column, require_scores=False)
    events["timestamp"] = events["timestamp"].dt.tz_localize(None)
    for name, values in events.items():
        if pd.api.types.is_string_dtype(values) or values.dtype == object:
            events[name] = values.astype("category")
    return events


def _facts_of(part) -> Any:
    from dask import delayed

    return delayed(partition_facts)(part)


def partition_facts(part: pd.DataFrame) -> dict:
    """Rows, finite risks and the lowest risk the producer flagged (on a
    worker)."""
    risk = part["risk"].to_numpy(dtype="float64")
    finite = np.isfinite(risk)
    flagged = part["flagged"].fillna(False).to_numpy(dtype=bool) & finite
    return {"rows": len(part), "finite": int(finite.sum()),
            "flagged_low": float(risk[flagged].min()) if flagged.any() else None}


def _default_threshold(events: DaskEvents, facts: list[dict]) -> float:
    """As ``default_threshold`` finds it for a table in this process."""
    finite = sum(fact["finite"] for fact in facts)
    if finite == 0:
        raise EventsReadError(
            f"'{events.source}': column '{events.score_column}' holds no "
            "usable score")
    if events.score_column.startswith("anomaly_score"):
        return 0.0
    flagged = [f["flagged_low"] for f in facts if f["flagged_low"] is not None]
    if flagged:
        return min(flagged)
    return _quantile(events, finite, UNFLAGGED_QUANTILE)


def _quantile(events: DaskEvents, finite: int, q: float) -> float:
    """The ``q`` quantile of finite risk, interpolated as NumPy's default
    does, from the few largest risks only: they are merged on the workers."""
    from dask import delayed

    position = q * (finite - 1)
    below = math.floor(position)
    wanted = finite - below
    level = [delayed(largest_risks)(part, wanted) for part in events.partitions]
    (top,) = events.compute(merged_in_tree(level, merge_largest, wanted))
    low = top[0]
    high = top[1] if top.size > 1 else low
    return float(low + (high - low) * (position - below))


def merged_in_tree(tasks: list, merge: Callable, *args) -> Any:
    """One task whose result is ``tasks``' results merged on the workers,
    ``MERGE_FAN_IN`` at a time: ``merge(results, *args)`` at each level."""
    from dask import delayed

    while len(tasks) > 1:
        tasks = [delayed(merge)(tasks[i:i + MERGE_FAN_IN], *args)
                 for i in range(0, len(tasks), MERGE_FAN_IN)]
    return tasks[0]


def largest_risks(part: pd.DataFrame, count: int) -> np.ndarray:
    """The ``count`` largest finite risks of a partition, rising (on a worker)."""
    risk = part["risk"].to_numpy(dtype="float64")
    return merge_largest([risk[np.isfinite(risk)]], count)


def merge_largest(arrays: list[np.ndarray], count: int) -> np.ndarray:
    """The ``count`` largest of several arrays, rising."""
    values = np.concatenate(arrays)
    if values.size > count:
        values = np.partition(values, values.size - count)[-count:]
    return np.sort(values)
