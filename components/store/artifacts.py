"""What the store knows about one object, independent of the backend."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

# The pipeline stamps names with local time as ``<stem>_YYYYMMDD_HHMMSS.<ext>``.
NAME_TIMESTAMP = re.compile(r"(\d{8}_\d{6})(?=\.[^.]+$|$)")


@dataclass(frozen=True)
class ArtifactInfo:
    """One object in a bucket: enough to pick, show and cache it."""

    bucket: str
    name: str
    size: int
    last_modified: pd.Timestamp
    etag: str
    parts: tuple[str, ...] = ()
    """For a folder read as one table: its Parquet objects, as names in the
    bucket in name order; empty for a single object."""

    @property
    def path(self) -> str:
        return f"{self.bucket}/{self.name}"

    @property
    def partitioned(self) -> bool:
        """Whether this is a folder of Parquet parts rather than one object."""
        return bool(self.parts)

    @property
    def suffix(self) -> str:
        """Lower-case file type, e.g. ``.parquet``; empty when there is none."""
        stem, dot, ext = self.name.rpartition(".")
        return f".{ext.lower()}" if dot and stem else ""

    @property
    def name_time(self) -> pd.Timestamp | None:
        """The timestamp in the object's name, if the pipeline wrote one."""
        return name_timestamp(self.name)

    @property
    def run_time(self) -> pd.Timestamp:
        """When the run happened: the name's stamp, else LastModified."""
        stamp = self.name_time
        return stamp if stamp is not None else self.last_modified.tz_localize(None)

    @property
    def sort_key(self) -> tuple:
        """Order of runs as the pipeline sees it: LastModified, then name stamp."""
        stamp = self.name_time or pd.Timestamp.min
        return (self.last_modified, stamp, self.name)


def name_timestamp(name: str) -> pd.Timestamp | None:
    match = NAME_TIMESTAMP.search(name)
    if match is None:
        return None
    stamp = pd.to_datetime(match.group(1), format="%Y%m%d_%H%M%S", errors="coerce")
    return None if pd.isna(stamp) else stamp


def latest(artifacts: list[ArtifactInfo]) -> ArtifactInfo | None:
    """The run the pipeline would pick as the latest."""
    return max(artifacts, key=lambda info: info.sort_key, default=None)
