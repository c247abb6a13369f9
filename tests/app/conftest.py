"""Fixtures for the served app: ``soc-copilot serve`` processes and Chromium.

A server starts on demand for each distinct environment and lives for one test
module, so the tests of a module share it; each test still gets freshly
uploaded buckets through ``uploaded_buckets``. Every page records its console
and its requests, and fails its test on a console error or on any request that
leaves the app's own origin (such requests are also blocked).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from components.store.config import BUCKET_VARIABLES, SCORES_BUCKET_VARIABLE
from tests.app.loopback import get
from tests.conftest import ACCESS_KEY, HOST, SECRET_KEY
from tests.faults import RestartableS3

SOC_COPILOT = Path(sys.executable).with_name("soc-copilot")
START_SECONDS = 60.0
STOP_SECONDS = 10.0
UI_TIMEOUT_MS = 15_000

VIEWPORT = {"width": 1400, "height": 1000}

# Inherited variables that would point the server elsewhere are dropped.
APP_PREFIXES = ("SOC_COPILOT_", "MINIO_")
APP_VARIABLES = {*BUCKET_VARIABLES.values(), SCORES_BUCKET_VARIABLE}

# The catalog lists on every new page; a timer would only add noise between tests.
NO_TIMER = {"SOC_COPILOT_REFRESH_SECONDS": "0"}

expect.set_options(timeout=UI_TIMEOUT_MS)


@dataclass(frozen=True)
class ServedApp:
    """A running ``soc-copilot serve``: where it answers and where it logs."""

    port: int
    log: Path
    process: subprocess.Popen

    @property
    def host(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}/"


class AppServers:
    """Servers started on demand, one per environment, all stopped by PID."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._running: dict[tuple, ServedApp] = {}

    def serve(self, env: dict[str, str]) -> ServedApp:
        key = tuple(sorted(env.items()))
        if key not in self._running:
            self._running[key] = start_app(env, self.folder)
        return self._running[key]

    def stop_all(self) -> None:
        for app in self._running.values():
            stop(app.process)
        self._running.clear()


def start_app(env: dict[str, str], folder: Path) -> ServedApp:
    """``soc-copilot serve`` on a free loopback port, once /healthz answers."""
    port = _free_port()
    log = folder / f"soc-copilot-{port}.log"
    command = [str(SOC_COPILOT), "serve", "--port", str(port), "--address", HOST]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=server_environment(env),
                                   stdout=output, stderr=subprocess.STDOUT)
    app = ServedApp(port=port, log=log, process=process)
    try:
        _wait_until_alive(app)
    except BaseException:
        stop(process)
        raise
    return app


def server_environment(env: dict[str, str]) -> dict[str, str]:
    inherited = {name: value for name, value in os.environ.items()
                 if not name.startswith(APP_PREFIXES) and name not in APP_VARIABLES}
    return {**inherited, **NO_TIMER, **env}


def stop(process: subprocess.Popen) -> None:
    """Terminate by PID, then kill if it does not exit in time."""
    process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_alive(app: ServedApp) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            raise RuntimeError(f"soc-copilot serve exited with "
                               f"{app.process.returncode}: {_tail(app.log)}")
        with contextlib.suppress(OSError):
            if get(f"{app.url}healthz", timeout=1.0)[0] == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"soc-copilot serve did not answer /healthz within "
                       f"{START_SECONDS:.0f} s: {_tail(app.log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def is_own(url: str, host: str) -> bool:
    """Whether ``url`` stays with the app at ``host``; data: and blob: URLs do."""
    parts = urlsplit(url)
    if parts.scheme == "data":
        return True
    if parts.scheme == "blob":
        return is_own(parts.path, host)
    return parts.scheme in ("http", "ws") and parts.netloc == host


@dataclass
class PageWatch:
    """What a page did that no test may let pass."""

    host: str
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("request", lambda request: self._check(request.url))
        page.on("websocket", lambda websocket: self._check(websocket.url))

    def guard(self, route) -> None:
        """Let only the app's own requests out of the browser."""
        if is_own(route.request.url, self.host):
            route.continue_()
        else:
            route.abort()

    def problems(self) -> list[str]:
        return self.errors + [f"request to another host: {url}"
                              for url in self.foreign]

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text}")

    def _check(self, url: str) -> None:
        if not is_own(url, self.host):
            self.foreign.append(url)


@pytest.fixture(scope="module")
def app_servers(tmp_path_factory):
    """The module's app servers, stopped when its last test is done."""
    servers = AppServers(tmp_path_factory.mktemp("soc-copilot"))
    yield servers
    servers.stop_all()


@pytest.fixture
def served_app(app_servers, s3_env, uploaded_buckets) -> ServedApp:
    """The app over the test S3 server, which holds the pipeline's three runs."""
    return app_servers.serve(s3_env)


@pytest.fixture
def page(browser, served_app):
    """A fresh page; its test fails on console errors or foreign requests."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    watch = PageWatch(served_app.host)
    context.route("**/*", watch.guard)
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    watch.attach(page)
    yield page
    context.close()
    if watch.problems():
        pytest.fail("the page misbehaved:\n" + "\n".join(watch.problems()),
                    pytrace=False)


# Short bounds so that each store fault shows within seconds.
FAULT_SETTINGS = {
    "SOC_COPILOT_REFRESH_SECONDS": "2",
    "SOC_COPILOT_CONNECT_TIMEOUT": "1",
    "SOC_COPILOT_READ_TIMEOUT": "1",
    "SOC_COPILOT_STORE_ATTEMPTS": "2",
    "SOC_COPILOT_READY_TIMEOUT": "4",
}


@pytest.fixture
def store_server(aws_isolation, tmp_path):
    """An S3 server of this test's own, not yet started."""
    server = RestartableS3(tmp_path / "moto.log", (ACCESS_KEY, SECRET_KEY))
    yield server
    server.stop()


@pytest.fixture
def launch(tmp_path):
    """Start ``soc-copilot serve`` against an endpoint; stopped after the test."""
    started = []

    def launch_app(endpoint: str, **settings: str):
        env = {"MINIO_ENDPOINT": endpoint, "MINIO_ACCESS_KEY": ACCESS_KEY,
               "MINIO_SECRET_KEY": SECRET_KEY, **FAULT_SETTINGS, **settings}
        app = start_app(env, tmp_path)
        started.append(app)
        return app

    yield launch_app
    for app in started:
        stop(app.process)


@pytest.fixture
def pages(browser):
    """Open a watched page on an app; the test fails on console errors or
    requests leaving the app, as with the shared ``page`` fixture."""
    opened = []

    def open_page(app):
        context = browser.new_context(viewport=VIEWPORT)
        watch = PageWatch(app.host)
        context.route("**/*", watch.guard)
        page = context.new_page()
        page.set_default_timeout(UI_TIMEOUT_MS)
        watch.attach(page)
        opened.append((context, watch))
        return page

    yield open_page
    problems = [problem for context, watch in opened
                for problem in watch.problems()]
    for context, _watch in opened:
        context.close()
    if problems:
        pytest.fail("a page misbehaved:\n" + "\n".join(problems), pytrace=False)
