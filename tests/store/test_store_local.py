"""The store against a folder of buckets written by the demo builder."""

import os
import re

import pandas as pd
import pytest

from components.readers import read_evaluation, read_model
from components.store import ArtifactStore, StoreConfig, StoreError, latest
from demo.build_store import RUN_TIMES, build_demo_store

EVAL_BUCKET = "cybersec-ml-eval"


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory, zeek_events):
    return build_demo_store(tmp_path_factory.mktemp("store"), zeek_events)


@pytest.fixture
def store(demo_root) -> ArtifactStore:
    return ArtifactStore(StoreConfig.from_env({"SOC_COPILOT_STORE": str(demo_root)}))


def test_local_list_artifacts_dates_objects_to_their_runs(store, demo_root):
    artifacts = store.list_artifacts(EVAL_BUCKET)

    assert [info.last_modified for info in artifacts] == list(RUN_TIMES)
    for info in artifacts:
        path = demo_root / EVAL_BUCKET / info.name
        assert info.size == path.stat().st_size
        assert info.etag == f"{info.size}-{path.stat().st_mtime!r}"


def test_local_list_artifacts_orders_by_last_modified(tmp_path):
    bucket = tmp_path / EVAL_BUCKET
    bucket.mkdir()
    names = [f"eval_2018122{day}_225000.parquet" for day in (1, 2, 3)]
    for order, name in enumerate(reversed(names)):
        (bucket / name).write_bytes(b"x")
        os.utime(bucket / name, (1e9 + order, 1e9 + order))
    store = ArtifactStore(StoreConfig.from_env({"SOC_COPILOT_STORE": str(tmp_path)}))

    artifacts = store.list_artifacts(EVAL_BUCKET)

    # Re-uploading an old run makes it the latest, as LastModified does in MinIO.
    assert [info.name for info in artifacts] == list(reversed(names))
    assert latest(artifacts).name == names[0]


def test_local_load_reads_each_version_once(store):
    info = store.list_artifacts("cybersec-ml-models")[-1]

    first = store.load(info, read_model)
    second = store.load(info, read_model)

    assert second is first
    assert (store.cache.misses, store.cache.hits) == (1, 1)
    assert first.details["trees"] == 100


def test_local_load_rereads_when_file_changes(tmp_path, zeek_events):
    root = build_demo_store(tmp_path, zeek_events)
    store = ArtifactStore(StoreConfig.from_env({"SOC_COPILOT_STORE": str(root)}))
    before = store.list_artifacts(EVAL_BUCKET)[-1]
    store.load(before, read_evaluation)
    changed = pd.DataFrame({"metric": ["anomaly_rate"], "value": [0.5]})
    changed.to_parquet(root / EVAL_BUCKET / before.name, index=False)

    after = store.list_artifacts(EVAL_BUCKET)[-1]

    assert after.etag != before.etag
    assert store.load(after, read_evaluation).to_dict() == {"anomaly_rate": 0.5}
    assert store.cache.misses == 2


def test_local_missing_bucket_raises_naming_it(store):
    with pytest.raises(StoreError, match="no-such-bucket"):
        store.list_artifacts("no-such-bucket")


def test_local_object_over_size_limit_is_not_read(demo_root):
    config = StoreConfig.from_env({"SOC_COPILOT_STORE": str(demo_root)})
    store = ArtifactStore(config, max_object_bytes=1000)
    info = store.list_artifacts("cybersec-ml-models")[0]

    with pytest.raises(StoreError, match=re.escape(info.name)):
        store.load(info, read_model)
    assert store.cache.misses == 0
