"""A folder of Parquet parts is listed as one table, on S3 and in a folder."""

from __future__ import annotations

import pytest

from components.store import ArtifactStore, StoreConfig, StoreError
from components.store.folders import is_part
from tests.partitioned import folder_objects, score_rows

SCORES = "soc-copilot-folder-scores"
FOLDER = "scores_20181222_145000"


@pytest.fixture
def objects() -> dict[str, bytes]:
    parts = folder_objects(score_rows(300, seed=3), FOLDER, 3)
    parts["scores_20181221_000000.parquet"] = parts[f"{FOLDER}/part.0.parquet"]
    parts["notes/readme.txt"] = b"no table here"
    return parts


@pytest.fixture
def s3_store(s3_env, s3_client, objects) -> ArtifactStore:
    s3_client.create_bucket(Bucket=SCORES)
    for name, data in objects.items():
        s3_client.put_object(Bucket=SCORES, Key=name, Body=data)
    return ArtifactStore(StoreConfig.from_env(s3_env))


@pytest.fixture
def local_store(tmp_path, objects) -> ArtifactStore:
    for name, data in objects.items():
        path = tmp_path / SCORES / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return ArtifactStore(StoreConfig.from_env({"SOC_COPILOT_STORE": str(tmp_path)}))


@pytest.mark.parametrize("kind", ["s3_store", "local_store"])
def test_a_folder_of_parts_is_one_table(request, kind, objects):
    store = request.getfixturevalue(kind)

    listed = {info.name: info for info in store.list_artifacts(SCORES, folders=True)}

    assert set(listed) == {FOLDER, "scores_20181221_000000.parquet"}
    folder = listed[FOLDER]
    parts = [f"{FOLDER}/part.{index}.parquet" for index in range(3)]
    assert folder.partitioned and folder.parts == tuple(parts)
    assert folder.size == sum(len(objects[name]) for name in parts)
    assert folder.path == f"{SCORES}/{FOLDER}"
    assert str(folder.run_time) == "2018-12-22 14:50:00"
    assert not listed["scores_20181221_000000.parquet"].partitioned


def test_folders_are_listed_only_when_asked(s3_store):
    names = [info.name for info in s3_store.list_artifacts(SCORES)]

    assert names == ["scores_20181221_000000.parquet"]


def test_a_rewritten_part_makes_a_new_table(s3_store, s3_client):
    before = _folder(s3_store)
    s3_client.put_object(Bucket=SCORES, Key=f"{FOLDER}/part.1.parquet",
                         Body=b"other bytes")

    after = _folder(s3_store)

    assert after.etag != before.etag and after.parts == before.parts


def test_parts_are_read_one_by_one_and_never_as_one_object(local_store, objects):
    folder = _folder(local_store)

    name = folder.parts[2]
    assert local_store.read_part(folder, name) == objects[name]
    with pytest.raises(StoreError, match="folder of 3 Parquet parts"):
        local_store.read_bytes(folder)
    with pytest.raises(StoreError, match="is not a part of"):
        local_store.read_part(folder, f"{FOLDER}/_SUCCESS")


@pytest.mark.parametrize(("name", "part"), [
    ("part.0.parquet", True), ("year=2018/part-0001.PARQUET", True),
    ("_SUCCESS", False), ("_metadata", False), ("_tmp/part.0.parquet", False),
    (".part.0.parquet.crc", False), ("part.0.csv", False),
])
def test_markers_and_hidden_files_are_not_parts(name, part):
    assert is_part(name) is part


def _folder(store: ArtifactStore):
    return next(info for info in store.list_artifacts(SCORES, folders=True)
                if info.partitioned)

