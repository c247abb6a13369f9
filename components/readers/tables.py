"""Turn an object's bytes into a dataframe, by the object's file type."""

from __future__ import annotations

import io
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

TABLE_SUFFIXES = (".parquet", ".csv", ".json")


class TableReadError(ValueError):
    """The object could not be read as a table; the message says why."""


def read_table(data: bytes, source: str, columns: list[str] | None = None,
               categories: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read Parquet, CSV or JSON bytes into a dataframe.

    ``columns`` limits a Parquet read to the columns that exist among them;
    Parquet text columns named in ``categories`` arrive as categoricals,
    decoded once per distinct value instead of once per row.
    """
    if not data:
        raise TableReadError(f"'{source}' is empty (0 bytes)")
    suffix = source.rpartition(".")[2].lower()
    try:
        if suffix == "parquet":
            return _read_parquet(data, columns, categories)
        if suffix == "csv":
            return pd.read_csv(io.BytesIO(data))
        if suffix == "json":
            return _read_json(data)
    except TableReadError:
        raise
    except (pa.ArrowException, ValueError, UnicodeDecodeError, OSError) as exc:
        raise TableReadError(f"'{source}' is not a readable {suffix} file: "
                             f"{str(exc).splitlines()[0][:200]}") from exc
    raise TableReadError(f"'{source}' has an unknown table type '.{suffix}'")


def _read_parquet(data: bytes, columns: list[str] | None,
                  categories: tuple[str, ...]) -> pd.DataFrame:
    return _to_frame(parquet_table(data, columns, categories))


def parquet_table(data: bytes, columns: list[str] | None = None,
                  categories: tuple[str, ...] = ()) -> pa.Table:
    """Parquet bytes as an Arrow table: only ``columns`` that exist, and the
    text columns named in ``categories`` as dictionaries."""
    schema = pq.read_schema(pa.BufferReader(data))
    wanted = None
    if columns is not None:
        wanted = [name for name in columns if name in schema.names]
    # pandas 3 writes its text columns as large strings.
    text = [name for name in categories if name in schema.names
            and (pa.types.is_string(schema.field(name).type)
                 or pa.types.is_large_string(schema.field(name).type))]
    parquet = pq.ParquetFile(pa.BufferReader(data), read_dictionary=text)
    return parquet.read(columns=wanted)


def read_parquet_parts(parts, source: str, columns: list[str] | None = None,
                       categories: tuple[str, ...] = ()) -> pd.DataFrame:
    """Parquet parts of one table, each given as ``(bytes, name)``, read one
    after another into one dataframe, rows in the parts' order.

    A column missing from some parts is empty there; the same column with
    different types in two parts is refused, naming ``source``.
    """
    tables = []
    for data, name in parts:
        if not data:
            raise TableReadError(f"'{name}' is empty (0 bytes)")
        try:
            tables.append(parquet_table(data, columns, categories))
        except pa.ArrowException as exc:
            raise TableReadError(f"'{name}' is not a readable parquet file: "
                                 f"{str(exc).splitlines()[0][:200]}") from exc
    try:
        table = pa.concat_tables(tables, promote_options="default")
    except pa.ArrowException as exc:
        raise TableReadError(f"The parts of '{source}' do not share one schema: "
                             f"{str(exc).splitlines()[0][:200]}") from exc
    return _to_frame(table)


def _to_frame(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    del table
    # Arrow's allocator keeps freed buffers for reuse: after a 10M-row table
    # that is a gigabyte of resident memory the process would never use again.
    pa.default_memory_pool().release_unused()
    return frame


def _read_json(data: bytes) -> pd.DataFrame:
    parsed = json.loads(data)
    if isinstance(parsed, dict):
        parsed = [parsed] if not _is_long_json(parsed) else parsed["metrics"]
    return pd.DataFrame(parsed)


def _is_long_json(parsed: dict) -> bool:
    return isinstance(parsed.get("metrics"), list)
