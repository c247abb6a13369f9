"""How an events table is read: one object, a folder of Parquet parts in this
process, or a Dask cluster.

Every read goes through the store's process-wide cache, so many sessions cost
one read per table. Without a Dask scheduler a folder is read here like one
object, within the same size limit. With one, Parquet score tables (objects
and folders) are read by the cluster's workers and stay there; silver tables
are still scored here, as the model lives in this process.
"""

from __future__ import annotations

import pandas as pd

from .readers import ScoredEvents, normalise_events, read_table
from .readers.dask_events import DaskEvents
from .readers.events import score_column_of
from .readers.tables import read_parquet_parts
from .store import ArtifactCache, ArtifactInfo, ArtifactStore, StoreError
from .store.dask_client import DaskSettings

# Columns of silver and score tables the views use; others are not read.
EVENT_READ_COLUMNS = [
    "timestamp", "src_ip", "dst_ip", "dest_ip", "protocol", "bytes", "duration",
    "bytes_per_second", "anomaly_score", "ml_score", "score", "prediction",
    "ml_is_outlier", "host", "user", "action", "label", "detailed_label",
]

# Text columns with few distinct values: read as categoricals, each distinct
# value decoded once, so a large table's addresses cost a code per row.
EVENT_TEXT_COLUMNS = ("src_ip", "dst_ip", "dest_ip", "protocol", "host", "user",
                      "action", "label", "detailed_label")

EventTable = ScoredEvents | DaskEvents | pd.DataFrame

# Tables held in the Dask cluster's memory, newest use last: a new pipeline run
# replaces the oldest, whose memory the workers free once no page shows it.
PERSISTED_TABLES = 2
_DASK_TABLES = ArtifactCache(max_entries=PERSISTED_TABLES)


def load_event_table(store: ArtifactStore, info: ArtifactInfo,
                     dask: DaskSettings | None = None,
                     silver_bucket: str | None = None) -> EventTable:
    """The table ``info`` names, read once per process and version: scored
    events (in this process or on the Dask cluster), or an unscored silver
    table as read.

    With ``dask``, Parquet tables outside ``silver_bucket`` are read by the
    cluster.
    """
    if dask is not None and info.bucket != silver_bucket and (
            info.partitioned or info.suffix == ".parquet"):
        return _DASK_TABLES.get_or_load(
            (store.location, info.path, info.etag, dask),
            lambda: _read_with_dask(store, info, dask))
    if info.partitioned:
        return store.remember(("folder table", info.path, info.etag),
                              lambda: read_folder(store, info))
    return store.load(info, read_events)


def _read_with_dask(store: ArtifactStore, info: ArtifactInfo,
                    dask: DaskSettings) -> DaskEvents:
    # Imported here: Dask is needed only when a scheduler is configured.
    from .readers.dask_events import read_dask_events
    from .store.dask_client import dataset_path, shared_client, storage_options

    names = info.parts or (info.name,)
    paths = [dataset_path(store.config, info.bucket, name) for name in names]
    return read_dask_events(shared_client(dask), paths,
                            storage_options(store.config), info.path,
                            EVENT_READ_COLUMNS, dask.timeout,
                            part_bytes=info.size // len(names))


def read_folder(store: ArtifactStore, info: ArtifactInfo) -> EventTable:
    """A folder of Parquet parts read here, part after part, as one table;
    refused over the store's object size limit, as one object would be."""
    if info.size > store.max_object_bytes:
        raise StoreError(
            f"'{info.path}' holds {info.size:,} bytes in {len(info.parts)} parts, "
            f"over the {store.max_object_bytes:,}-byte limit for reading in "
            "this process; not read (a Dask cluster reads it: set "
            "SOC_COPILOT_DASK_SCHEDULER)")
    parts = ((store.read_part(info, name), f"{info.bucket}/{name}")
             for name in info.parts)
    table = read_parquet_parts(parts, info.path, EVENT_READ_COLUMNS,
                               EVENT_TEXT_COLUMNS)
    return events_or_table(table, info.path)


def read_event_table(data: bytes, source: str) -> pd.DataFrame:
    """An events table with only the columns the views use."""
    return read_table(data, source, columns=EVENT_READ_COLUMNS,
                      categories=EVENT_TEXT_COLUMNS)


def read_events(data: bytes, source: str) -> ScoredEvents | pd.DataFrame:
    """A score table, normalised, or an unscored (silver) table as read.

    For a score table only the normalised frame outlives the read, so the
    process holds one copy of it however many pages show it.
    """
    return events_or_table(read_event_table(data, source), source)


def events_or_table(table: pd.DataFrame, source: str) -> ScoredEvents | pd.DataFrame:
    """``table`` normalised when it has a score column, else as it is
    (silver, for the model to score).

    The rows keep the order they were read in: the anomaly view finds the
    riskiest-first order once per table and looks rows up through it, rather
    than holding a reordered copy of every column.
    """
    if score_column_of(table.columns) is None:
        return table
    return normalise_events(table, source)
