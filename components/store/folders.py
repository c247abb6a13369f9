"""Folders of Parquet parts, each listed as one table.

Dask, Spark and Arrow's dataset writer split a large table into a prefix of
``part.N.parquet`` objects, often with markers such as ``_SUCCESS`` or
``_metadata`` beside them. The scores bucket lists such a prefix as one table:
its parts in name order, its size their sum, its time the newest part's, and an
ETag made from the parts' own, so a rewritten part makes it a new table.
"""

from __future__ import annotations

import dataclasses
import hashlib

from .artifacts import ArtifactInfo

PART_SUFFIX = ".parquet"


def is_part(name: str) -> bool:
    """Whether ``name`` (relative to the folder) is a Parquet part, not a
    marker or metadata file (names starting with ``_`` or ``.`` at any level,
    as the writers above leave them)."""
    steps = name.split("/")
    hidden = any(step.startswith(("_", ".")) for step in steps)
    return not hidden and steps[-1].lower().endswith(PART_SUFFIX)


def folder_table(bucket: str, folder: str,
                 objects: list[ArtifactInfo]) -> ArtifactInfo | None:
    """The folder ``folder`` of ``bucket`` as one table, from the objects under
    it (named relative to the bucket); None when it holds no Parquet part."""
    prefix = f"{folder}/"
    parts = sorted((info for info in objects
                    if is_part(info.name.removeprefix(prefix))),
                   key=lambda info: info.name)
    if not parts:
        return None
    return dataclasses.replace(
        parts[0], name=folder, size=sum(part.size for part in parts),
        last_modified=max(part.last_modified for part in parts),
        etag=_folder_etag(parts), parts=tuple(part.name for part in parts))


def _folder_etag(parts: list[ArtifactInfo]) -> str:
    """One tag for the parts' names and tags: it changes when any part does."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(f"{part.name}\0{part.etag}\0".encode())
    return f"{digest.hexdigest()[:32]}-{len(parts)}"
