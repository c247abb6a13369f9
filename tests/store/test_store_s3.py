"""The store against a real S3 API (moto's server) holding the pipeline's objects."""

import hashlib
import io
import re
import socket

import pandas as pd
import pytest

from components.readers import read_evaluation
from components.store import ArtifactStore, StoreConfig, StoreError, latest

EVAL_BUCKET = "cybersec-ml-eval"


@pytest.fixture
def store(s3_env, uploaded_buckets) -> ArtifactStore:
    return ArtifactStore(StoreConfig.from_env(s3_env))


def test_s3_list_artifacts_reports_size_etag_and_time(store, uploaded_buckets):
    started = pd.Timestamp.now(tz="UTC").floor("s")

    artifacts = store.list_artifacts(EVAL_BUCKET)

    objects = uploaded_buckets[EVAL_BUCKET]
    assert [info.name for info in artifacts] == sorted(objects)
    for info in artifacts:
        content = objects[info.name]
        assert info.bucket == EVAL_BUCKET
        assert info.size == len(content)
        assert info.etag == hashlib.md5(content).hexdigest()
        assert info.last_modified.tz is not None
        assert started - pd.Timedelta(minutes=5) <= info.last_modified


def test_s3_list_artifacts_orders_runs_oldest_first(store):
    artifacts = store.list_artifacts("cybersec-ml-models")

    assert [info.run_time for info in artifacts] == [
        pd.Timestamp("2018-12-21 22:50"), pd.Timestamp("2018-12-22 06:50"),
        pd.Timestamp("2018-12-22 14:50")]
    assert latest(artifacts).name == "model_isoforest_20181222_145000.pkl"


def test_s3_load_parses_the_object(store, uploaded_buckets):
    info = store.list_artifacts(EVAL_BUCKET)[-1]

    metrics = store.load(info, read_evaluation)

    expected = pd.read_parquet(
        io.BytesIO(uploaded_buckets[EVAL_BUCKET][info.name]))
    assert metrics.to_dict() == dict(zip(expected.metric, expected.value, strict=True))


def test_s3_load_reads_each_etag_once(store):
    info = store.list_artifacts(EVAL_BUCKET)[0]

    first = store.load(info, read_evaluation)
    second = store.load(info, read_evaluation)

    assert second is first
    assert (store.cache.misses, store.cache.hits) == (1, 1)


def test_s3_load_rereads_when_object_changes(store, s3_client):
    before = store.list_artifacts(EVAL_BUCKET)[0]
    store.load(before, read_evaluation)
    changed = pd.DataFrame({"metric": ["anomaly_rate"], "value": [0.5]})
    s3_client.put_object(Bucket=EVAL_BUCKET, Key=before.name,
                         Body=changed.to_parquet(index=False))

    after = _by_name(store.list_artifacts(EVAL_BUCKET), before.name)
    metrics = store.load(after, read_evaluation)

    assert after.etag != before.etag
    assert metrics.to_dict() == {"anomaly_rate": 0.5}
    assert store.cache.misses == 2


def test_s3_missing_bucket_raises_naming_it(store):
    with pytest.raises(StoreError, match="no-such-bucket"):
        store.list_artifacts("no-such-bucket")


def test_s3_read_of_deleted_object_raises_naming_it(store, s3_client):
    info = store.list_artifacts(EVAL_BUCKET)[0]
    s3_client.delete_object(Bucket=EVAL_BUCKET, Key=info.name)

    with pytest.raises(StoreError, match=re.escape(info.name)):
        store.read_bytes(info)


def test_s3_unreachable_endpoint_raises_without_secret(s3_env):
    store = ArtifactStore(StoreConfig.from_env(
        {**s3_env, "MINIO_ENDPOINT": f"127.0.0.1:{_closed_port()}",
         "SOC_COPILOT_CONNECT_TIMEOUT": "1"}))

    with pytest.raises(StoreError, match=re.escape(EVAL_BUCKET)) as raised:
        store.list_artifacts(EVAL_BUCKET)
    assert s3_env["MINIO_SECRET_KEY"] not in str(raised.value)


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _by_name(artifacts, name):
    return next(info for info in artifacts if info.name == name)
