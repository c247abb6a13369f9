"""An S3 endpoint of the benchmark's own: moto's server on loopback.

The environment is pinned the way the tests pin it, so no AWS client in the
benchmark (or in the app it serves) looks anywhere but 127.0.0.1.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.served import HOST, free_port

ACCESS_KEY = "soc-copilot-bench-access"
SECRET_KEY = "soc-copilot-bench-secret"
START_SECONDS = 30.0
STOP_SECONDS = 10.0

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
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy",
                   "ALL_PROXY", "all_proxy", "AWS_PROFILE")


@dataclass(frozen=True)
class S3Endpoint:
    """A running moto server and the app's variables that point at it."""

    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def app_env(self, **buckets: str) -> dict[str, str]:
        """The pipeline's variables for this endpoint, plus bucket variables."""
        return {"MINIO_ENDPOINT": f"{HOST}:{self.port}",
                "MINIO_ACCESS_KEY": ACCESS_KEY, "MINIO_SECRET_KEY": SECRET_KEY,
                "MINIO_SECURE": "false", **buckets}


def isolate_aws() -> None:
    """Keep this process and its children on loopback, away from real keys."""
    for name in PROXY_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(AWS_ISOLATION)


@contextmanager
def s3_endpoint(log_path: Path):
    """moto's S3 server on a free loopback port, stopped by PID afterwards."""
    isolate_aws()
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
            stdout=log, stderr=subprocess.STDOUT)
    endpoint = S3Endpoint(port, process)
    try:
        _wait_until_answering(endpoint)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_answering(endpoint: S3Endpoint) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if endpoint.process.poll() is not None:
            raise RuntimeError("the moto server exited before answering")
        try:
            with opener.open(f"{endpoint.url}/moto-api/", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise RuntimeError(f"the moto server did not answer in {START_SECONDS:.0f} s")
