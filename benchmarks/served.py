"""Start and stop a served SOC Copilot for measurements, on loopback only."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from dashboard.memory import resident_megabytes

HOST = "127.0.0.1"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def rss_megabytes(pid: int) -> float:
    """Resident memory of a process, from the kernel's own accounting."""
    megabytes = resident_megabytes(pid)
    if megabytes is None:
        raise RuntimeError(f"no VmRSS for process {pid}")
    return megabytes


@contextmanager
def served_app(env: dict[str, str], log_path: Path, timeout: float = 60.0):
    """Run ``soc-copilot serve`` until the block ends; yield (url, process)."""
    port = free_port()
    command = [sys.executable, "-m", "dashboard.cli", "serve", "--port", str(port),
               "--address", HOST]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env={**os.environ, **env},
                                   stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{HOST}:{port}"
    try:
        _wait_for(f"{url}/healthz", process, timeout)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=20)


def _wait_for(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the app exited before answering")
        try:
            with opener.open(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")
