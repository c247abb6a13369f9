import pandas as pd
import pytest

from components.readers import TableReadError, read_table


@pytest.fixture(scope="module")
def parquet_bytes(latest_run) -> bytes:
    return latest_run["cybersec-ml-raw"][1]


def test_read_table_parquet_roundtrip(latest_run):
    source, data = latest_run["cybersec-ml-raw"]

    table = read_table(data, source)

    assert list(table.columns) == ["timestamp", "src_ip", "dst_ip", "bytes",
                                   "duration", "protocol"]
    assert str(table["timestamp"].dt.tz) == "UTC"


def test_read_table_parquet_reads_only_present_columns(parquet_bytes):
    table = read_table(parquet_bytes, "raw.parquet",
                       columns=["bytes", "no_such_column", "src_ip"])

    assert list(table.columns) == ["bytes", "src_ip"]


def test_read_table_zero_bytes_raises_naming_object():
    with pytest.raises(TableReadError, match=r"'raw/empty\.parquet' is empty"):
        read_table(b"", "raw/empty.parquet")


@pytest.mark.parametrize("keep", [0.5, 0.99])
def test_read_table_truncated_parquet_raises_naming_object(parquet_bytes, keep):
    cut = parquet_bytes[: int(len(parquet_bytes) * keep)]

    with pytest.raises(TableReadError, match=r"'raw/cut\.parquet' is not a readable"):
        read_table(cut, "raw/cut.parquet")


def test_read_table_csv_and_json_records():
    frame = pd.DataFrame({"metric": ["f1"], "value": [0.5]})

    from_csv = read_table(frame.to_csv(index=False).encode(), "e.csv")
    from_json = read_table(frame.to_json(orient="records").encode(), "e.json")

    pd.testing.assert_frame_equal(from_csv, frame)
    pd.testing.assert_frame_equal(from_json, frame)


def test_read_table_unknown_type_raises_naming_it():
    with pytest.raises(TableReadError, match=r"unknown table type '\.xlsx'"):
        read_table(b"PK", "report.xlsx")
