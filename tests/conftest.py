"""Shared fixtures: the real Zeek sample, the pipeline's objects and an S3 server.

The S3 endpoint is moto's standalone server, started once per session on a
free loopback port. Every AWS client in the tests is pinned to it: the
environment below turns off the instance-metadata lookup and any shared AWS
configuration, so nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from playwright.sync_api import sync_playwright

from demo.build_store import RUN_TIMES, load_sample, pipeline_objects

HOST = "127.0.0.1"
ACCESS_KEY = "soc-copilot-test-access"
SECRET_KEY = "soc-copilot-test-secret-never-shown"
SERVER_START_SECONDS = 30.0

# Applied for the whole session, before any client exists.
AWS_ISOLATION = {
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ACCESS_KEY_ID": ACCESS_KEY,
    "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "NO_PROXY": HOST,
    "no_proxy": HOST,
}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update",
    "--disable-sync",
]

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy",
                   "ALL_PROXY", "all_proxy", "AWS_PROFILE")


@dataclass(frozen=True)
class S3Server:
    """A running moto server: where it listens."""

    port: int
    process: subprocess.Popen

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"


@pytest.fixture(scope="session", autouse=True)
def aws_isolation():
    """Keep boto3 and s3fs on loopback and away from real credentials."""
    with pytest.MonkeyPatch.context() as patch:
        for name in PROXY_VARIABLES:
            patch.delenv(name, raising=False)
        for name, value in AWS_ISOLATION.items():
            patch.setenv(name, value)
        yield


@pytest.fixture(scope="session")
def s3_server(aws_isolation, tmp_path_factory) -> S3Server:
    """moto's S3 server in a subprocess, stopped by PID at the end."""
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
            stdout=output, stderr=subprocess.STDOUT,
        )
    server = S3Server(port=port, process=process)
    try:
        _wait_until_answering(server, log)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def s3_env(s3_server) -> dict[str, str]:
    """The pipeline's variables, pointing at the test server."""
    return {
        "MINIO_ENDPOINT": f"{HOST}:{s3_server.port}",
        "MINIO_ACCESS_KEY": ACCESS_KEY,
        "MINIO_SECRET_KEY": SECRET_KEY,
        "MINIO_SECURE": "false",
    }


@pytest.fixture(scope="session")
def zeek_events():
    """The real IoT-23 Zeek sample shipped with the demo."""
    return load_sample()


@pytest.fixture(scope="session")
def upstream_bucket_objects(zeek_events) -> dict[str, dict[str, bytes]]:
    """Bucket to {object name: bytes} for the three default pipeline runs."""
    return pipeline_objects(zeek_events, list(RUN_TIMES))


@pytest.fixture(scope="session")
def latest_run(upstream_bucket_objects) -> dict[str, tuple[str, bytes]]:
    """Bucket to (``bucket/name``, bytes) of the newest run's objects."""
    return {
        bucket: (f"{bucket}/{name}", objects[name])
        for bucket, objects in upstream_bucket_objects.items()
        for name in [max(objects)]
    }


@pytest.fixture
def s3_client(s3_server):
    """A boto3 client for test setup only; the app itself never writes."""
    return boto3.client(
        "s3", endpoint_url=s3_server.endpoint_url, region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
    )


@pytest.fixture
def uploaded_buckets(s3_server, s3_client, upstream_bucket_objects):
    """Fresh buckets on the server holding the pipeline's objects, run by run."""
    _reset(s3_server)
    for bucket in upstream_bucket_objects:
        s3_client.create_bucket(Bucket=bucket)
    for bucket, objects in upstream_bucket_objects.items():
        for name in sorted(objects):
            s3_client.put_object(Bucket=bucket, Key=name, Body=objects[name])
    return upstream_bucket_objects


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _wait_until_answering(server: S3Server, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"moto server exited: {log.read_text()[-2000:]}")
        try:
            _loopback_request(f"{server.endpoint_url}/moto-api/", "GET")
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise RuntimeError(f"moto server did not answer in {SERVER_START_SECONDS} s")


def _reset(server: S3Server) -> None:
    """Drop every bucket the server holds (moto's own reset endpoint)."""
    _loopback_request(f"{server.endpoint_url}/moto-api/reset", "POST")


def _loopback_request(url: str, method: str) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, method=method)
    with opener.open(request, timeout=2) as response:
        response.read()


@pytest.fixture(scope="session")
def dask_cluster(aws_isolation):
    """Two Dask worker processes and a scheduler on loopback, for the tests
    of the Dask path; started by the first test that asks for them.

    The workers inherit the AWS isolation above, so they too reach only the
    test S3 server.
    """
    from distributed import LocalCluster

    from components.store.dask_client import close_clients

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host=HOST, dashboard_address=None)
    try:
        yield cluster
    finally:
        close_clients()
        cluster.close()


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium, driven by Playwright."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
