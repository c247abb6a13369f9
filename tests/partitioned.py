"""Score tables split into folders of Parquet parts, as Dask or Spark write them.

The rows are made up but shaped like the pipeline's: a few source hosts, many
destinations, an IPv6 address, missing addresses and sizes, tied scores, and
text differing in case only, and one part whose scores are all missing, so
that every merge across parts and every tie rule is exercised.
"""

from __future__ import annotations

import io
import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SOURCES = ["10.0.0.1", "10.0.0.2", "192.168.1.195", "2001:db8::5", None]
# Text that differs in case only sorts as equal, as the search matches it.
PROTOCOLS = ["tcp", "udp", "icmp", "TCP"]
ACTIONS = ["allow", "Deny", "deny", "ALLOW", None]


def score_rows(rows: int, seed: int, score_column: str = "ml_score") -> pd.DataFrame:
    """``rows`` scored events; scores rounded so that some tie."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0, 5_000, rows).astype("float64")
    sizes[rng.random(rows) < 0.05] = np.nan
    scores = np.round(rng.random(rows), 3)
    if score_column == "anomaly_score":
        scores = scores - 0.9
    return pd.DataFrame({
        "timestamp": pd.Timestamp("2018-12-22", tz="UTC")
        + pd.to_timedelta(rng.integers(0, 86_400_000_000, rows), unit="us"),
        "src_ip": rng.choice(SOURCES, rows, p=[0.4, 0.3, 0.2, 0.05, 0.05]),
        "dst_ip": [f"172.16.{a}.{b}" for a, b in rng.integers(0, 12, (rows, 2))],
        "protocol": rng.choice(PROTOCOLS, rows),
        "action": rng.choice(ACTIONS, rows),
        "bytes": sizes,
        "duration": np.round(rng.exponential(2.0, rows), 2),
        score_column: scores,
    })


def split(frame: pd.DataFrame, parts: int) -> list[pd.DataFrame]:
    """``frame`` cut into ``parts`` runs of rows, in order."""
    bounds = np.linspace(0, len(frame), parts + 1).astype(int)
    return [frame.iloc[a:b].reset_index(drop=True)
            for a, b in itertools.pairwise(bounds)]


def parquet_bytes(frame: pd.DataFrame, row_group_size: int | None = None) -> bytes:
    buffer = io.BytesIO()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, buffer, row_group_size=row_group_size)
    return buffer.getvalue()


def folder_objects(frame: pd.DataFrame, folder: str, parts: int) -> dict[str, bytes]:
    """Object name to bytes: ``frame`` as parts under ``folder``, with the
    markers writers leave beside them."""
    objects = {f"{folder}/part.{index}.parquet": parquet_bytes(part)
               for index, part in enumerate(split(frame, parts))}
    objects[f"{folder}/_SUCCESS"] = b""
    objects[f"{folder}/.part.0.parquet.crc"] = b"crc"
    return objects
