"""Store faults on demand: an S3 server that can be stopped and restarted, and a
loopback proxy that records every request and can delay, hold or cut them.

Both listen on 127.0.0.1 only and are stopped by the tests that start them.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3

HOST = "127.0.0.1"
HEAD_LIMIT = 64 * 1024
POLL_SECONDS = 0.05
READ_METHODS = {"GET", "HEAD"}
LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class RestartableS3:
    """moto's S3 server on a fixed loopback port that a test can stop and
    start again: the store going away and coming back. Its objects live in
    memory, so a restart empties it; ``upload`` fills it again."""

    def __init__(self, log: Path, credentials: tuple[str, str]):
        self.port = free_port()
        self.log = log
        self.credentials = credentials
        self.process: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", HOST,
                 "-p", str(self.port)],
                stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(
                    (HOST, self.port), timeout=0.5):
                return
            time.sleep(0.1)
        raise RuntimeError(f"moto did not listen on {self.port} in {timeout} s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def require_credentials(self) -> None:
        """From now on, refuse requests whose keys moto's IAM does not know
        (moto accepts any key until told otherwise)."""
        request = urllib.request.Request(
            f"{self.endpoint_url}/moto-api/reset-auth", data=b"0", method="POST",
            # A form content type would hide the body from moto.
            headers={"Content-Type": "text/plain"})
        with LOOPBACK.open(request, timeout=5) as response:
            response.read()

    def client(self):
        access_key, secret_key = self.credentials
        return boto3.client("s3", endpoint_url=self.endpoint_url,
                            region_name="us-east-1", aws_access_key_id=access_key,
                            aws_secret_access_key=secret_key)

    def upload(self, buckets: dict[str, dict[str, bytes]]) -> None:
        client = self.client()
        for bucket, objects in buckets.items():
            client.create_bucket(Bucket=bucket)
            for name in sorted(objects):
                client.put_object(Bucket=bucket, Key=name, Body=objects[name])


@dataclass(frozen=True)
class SeenRequest:
    """One HTTP request the proxy forwarded (or held, or cut)."""

    method: str
    target: str
    copy_source: str

    @property
    def operation(self) -> str:
        """The S3 operation this request is, as far as the tests need it."""
        parts = urlsplit(self.target)
        query = parse_qs(parts.query, keep_blank_values=True)
        is_bucket = parts.path.strip("/").count("/") == 0
        if self.method == "GET" and is_bucket:
            return "ListObjectsV2" if query.get("list-type") == ["2"] else (
                "ListObjects")
        if self.method == "GET":
            return "GetObject"
        if self.method == "HEAD":
            return "HeadBucket" if is_bucket else "HeadObject"
        if self.copy_source:
            return "CopyObject"
        return {"PUT": "Put", "POST": "Post", "DELETE": "Delete"}.get(
            self.method, self.method) + ("Bucket" if is_bucket else "Object")

    @property
    def is_read(self) -> bool:
        return self.method in READ_METHODS and not self.copy_source


class FaultProxy:
    """Forwards loopback TCP to an S3 server, one request at a time.

    ``mode`` applies to each request as it arrives: ``pass`` forwards it,
    ``delay`` forwards it after ``delay`` seconds, ``hold`` never answers
    (a store that accepts connections and then stays silent), ``cut``
    closes the connection. ``cut_next`` cuts that many requests, then
    passes. Every request is recorded in ``requests``.
    """

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.mode = "pass"
        self.delay = 0.0
        self.cut_next = 0
        self.hold_objects = False
        self.requests: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._listener = socket.create_server((HOST, 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"{HOST}:{self.port}"

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        with self._lock:
            for sock in list(self._sockets):
                _close(sock)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            self._track(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _serve(self, client: socket.socket) -> None:
        upstream = None
        pending = b""
        try:
            while not self._closed.is_set():
                request, pending = _read_request(client, pending)
                if request is None:
                    return
                if not self._apply_fault(request):
                    return
                if upstream is None:
                    upstream = socket.create_connection((HOST, self.upstream_port))
                    self._track(upstream)
                    threading.Thread(target=_pump, args=(upstream, client),
                                     daemon=True).start()
                upstream.sendall(request)
        except OSError:
            return
        finally:
            _close(client)
            if upstream is not None:
                _close(upstream)

    def _apply_fault(self, request: bytes) -> bool:
        """Record the request; whether it should go on to the server."""
        seen = _describe(request)
        self.requests.append(seen)
        with self._lock:
            if self.cut_next > 0:
                self.cut_next -= 1
                return False
            mode, delay = self.mode, self.delay
        if self.hold_objects and seen.operation == "GetObject":
            mode = "hold"
        if mode == "cut":
            return False
        if mode == "delay":
            time.sleep(delay)
        if mode == "hold":
            while self._holding(seen) and not self._closed.is_set():
                time.sleep(POLL_SECONDS)
            return False
        return True

    def _holding(self, seen: SeenRequest) -> bool:
        return self.mode == "hold" or (
            self.hold_objects and seen.operation == "GetObject")


def _read_request(sock: socket.socket, pending: bytes) -> tuple[bytes | None, bytes]:
    """One whole request (head and body) from ``sock``, and what follows it."""
    while b"\r\n\r\n" not in pending:
        if len(pending) > HEAD_LIMIT:
            raise OSError("request head too long")
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        pending += chunk
    head, _, rest = pending.partition(b"\r\n\r\n")
    length = int(_header(head, b"content-length") or 0)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def _header(head: bytes, name: bytes) -> str:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip().decode("latin-1")
    return ""


def _describe(request: bytes) -> SeenRequest:
    head = request.partition(b"\r\n\r\n")[0]
    method, target, _version = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
    return SeenRequest(method=method, target=target,
                       copy_source=_header(head, b"x-amz-copy-source"))


def _pump(source: socket.socket, destination: socket.socket) -> None:
    """Copy the server's answers back to the client until either side closes."""
    try:
        while chunk := source.recv(65536):
            destination.sendall(chunk)
    except OSError:
        pass
    finally:
        _close(destination)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
