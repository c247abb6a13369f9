"""A score table of many rows written as a folder of Parquet parts.

Each part resamples the real IoT-23 rows as ``benchmarks.scale_data`` does,
with a seed of its own, and is written through s3fs to the benchmark's S3
server. The parts are built in a child process, one at a time, so that the
process measured as the app never held the table.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import fsspec

from benchmarks.scale_data import SEED, resample, scored_sample, write_table

PART_NAME = "part.{index:04d}.parquet"


@dataclass(frozen=True)
class FolderTable:
    """One written folder table and what it costs to hold."""

    rows: int
    parts: int
    folder: str
    """``bucket/folder`` in the store."""
    object_bytes: int
    """The parts' Parquet bytes, summed."""
    arrow_bytes: int
    """The table in memory as Arrow, with the columns as written."""
    build_seconds: float
    """Resampling and writing every part."""


def build_folder(endpoint_url: str, credentials: tuple[str, str], folder: str,
                 rows: int, parts: int) -> FolderTable:
    """Write ``rows`` rows in ``parts`` parts under ``folder``, in a child."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        return pool.submit(_write_parts, endpoint_url, credentials, folder, rows,
                           parts).result()


def _write_parts(endpoint_url: str, credentials: tuple[str, str], folder: str,
                 rows: int, parts: int) -> FolderTable:
    started = time.perf_counter()
    key, secret = credentials
    fs = fsspec.filesystem("s3", key=key, secret=secret, skip_instance_cache=True,
                           client_kwargs={"endpoint_url": endpoint_url})
    bucket = folder.partition("/")[0]
    if not fs.exists(bucket):
        fs.mkdir(bucket)
    sample = scored_sample()
    object_bytes = arrow_bytes = 0
    for index, part_rows in enumerate(_split(rows, parts)):
        table = resample(sample, part_rows, seed=SEED + index)
        arrow_bytes += table.nbytes
        object_bytes += write_table(
            fs, table, f"{folder}/{PART_NAME.format(index=index)}")
        print(f"  part {index + 1}/{parts} written", flush=True)
    return FolderTable(rows=rows, parts=parts, folder=folder,
                       object_bytes=object_bytes, arrow_bytes=arrow_bytes,
                       build_seconds=time.perf_counter() - started)


def _split(rows: int, parts: int) -> list[int]:
    base, extra = divmod(rows, parts)
    return [base + (index < extra) for index in range(parts)]
