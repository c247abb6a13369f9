"""The served app's probes, asked over HTTP as Kubernetes would ask them."""

from __future__ import annotations

import json

import pytest

from components.store.config import DEFAULT_BUCKETS
from tests.app.loopback import get
from tests.conftest import SECRET_KEY

MISSING_BUCKET = "missing-bucket"


@pytest.fixture
def unready_app(app_servers, s3_env, uploaded_buckets):
    """The app pointed at a models bucket the store does not have."""
    return app_servers.serve({**s3_env, "MODELS_BUCKET": MISSING_BUCKET})


def probe(app, route: str) -> tuple[int, dict]:
    status, body = get(f"{app.url}{route}")
    return status, json.loads(body)


def test_healthz_answers_alive(served_app):
    assert probe(served_app, "healthz") == (200, {"status": "alive"})


def test_readyz_counts_the_uploaded_objects_per_bucket(served_app, uploaded_buckets):
    status, body = probe(served_app, "readyz")

    assert status == 200
    assert body["status"] == "ready"
    assert body["objects"] == {bucket: len(uploaded_buckets[bucket])
                               for bucket in DEFAULT_BUCKETS.values()}


def test_readyz_names_the_missing_bucket(unready_app):
    status, body = probe(unready_app, "readyz")

    assert status == 503
    assert body["status"] == "unavailable"
    assert MISSING_BUCKET in body["reason"]


def test_probes_never_include_the_secret_key(served_app, unready_app):
    for app in (served_app, unready_app):
        for route in ("healthz", "readyz"):
            _status, body = get(f"{app.url}{route}")
            assert SECRET_KEY.encode() not in body, (app.url, route)
