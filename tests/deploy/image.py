"""Build and run the ui-light image with buildah, on a base made here.

No image registry is reachable from the build machines, so the Containerfile's
``FROM`` is stood in for by a Debian bookworm made with debootstrap (with
Debian's Python 3.11) and committed under a local name. The Containerfile
itself is built unchanged; only its ``BASE_IMAGE`` argument names the stand-in.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .manifests import ROOT

BASE_IMAGE = "localhost/soc-copilot-test-base:bookworm"
IMAGE = "localhost/soc-copilot:ui-light"
BASE_PACKAGES = "python3,python3-venv,ca-certificates"
HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
BUILD_SECONDS = 1200


def missing_tools() -> list[str]:
    """What this machine lacks to build images; empty when all is there."""
    missing = [name for name in ("buildah", "debootstrap") if not shutil.which(name)]
    if os.geteuid() != 0:
        missing.append("root (debootstrap and buildah's chroot isolation)")
    return missing


def buildah(*args: str, timeout: float = 300) -> str:
    """Run buildah on the vfs driver (no overlay or fuse needed); its stdout."""
    result = subprocess.run(["buildah", "--storage-driver", "vfs", *args],
                            capture_output=True, text=True, timeout=timeout,
                            check=False)
    if result.returncode != 0:
        raise RuntimeError(f"buildah {' '.join(args[:2])} failed:\n"
                           f"{result.stderr[-3000:]}")
    return result.stdout.strip()


def image_exists(name: str) -> bool:
    result = subprocess.run(["buildah", "--storage-driver", "vfs", "inspect",
                             "--type", "image", name],
                            capture_output=True, timeout=60, check=False)
    return result.returncode == 0


def make_base_image() -> None:
    """A minimal bookworm with Python, committed as the FROM stand-in."""
    if image_exists(BASE_IMAGE):
        return
    with tempfile.TemporaryDirectory(prefix="soc-copilot-rootfs-") as rootfs:
        subprocess.run(["debootstrap", "--variant=minbase",
                        f"--include={BASE_PACKAGES}", "bookworm", rootfs],
                       check=True, capture_output=True, timeout=900)
        container = buildah("from", "scratch")
        try:
            mount = buildah("mount", container)
            subprocess.run(["cp", "-a", f"{rootfs}/.", mount], check=True,
                           timeout=300)
            buildah("umount", container)
            buildah("commit", container, BASE_IMAGE, timeout=600)
        finally:
            buildah("rm", container)


@dataclass(frozen=True)
class BuiltImage:
    name: str
    build_seconds: float
    size: str


def build_image() -> BuiltImage:
    """Build the Containerfile unchanged on the stand-in base.

    The image gets its product name and a name of this test run's own, which
    the tests use: another checkout building at the same time on this
    machine can take the product name, never this run's.
    """
    own_name = f"{IMAGE}-test-{os.getpid()}"
    started = time.monotonic()
    buildah("bud", "--format", "docker", "--isolation", "chroot",
            "--build-arg", f"BASE_IMAGE={BASE_IMAGE}",
            # pip in the build trusts what the host's pip trusts.
            "-v", f"{HOST_CA_BUNDLE}:/run/pip-ca.pem:ro",
            "--build-arg", "PIP_CA=/run/pip-ca.pem",
            "-t", IMAGE, "-t", own_name,
            "-f", str(ROOT / "Containerfile"), str(ROOT), timeout=BUILD_SECONDS)
    elapsed = time.monotonic() - started
    return BuiltImage(own_name, elapsed, image_size(own_name))


def remove_name(name: str) -> None:
    """Drop one name of an image (the image stays while it has another)."""
    buildah("rmi", name)


def image_size(name: str) -> str:
    """buildah's own figure for the image, e.g. ``'981 MB'``."""
    listing = json.loads(buildah("images", "--json", name))
    return str(listing[0]["size"])


def image_config(name: str) -> dict:
    return json.loads(buildah("inspect", "--type", "image", name))


def run_in_image(image: str, command: list[str], user: str = "10001:10001",
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a command to completion in a fresh container of ``image``."""
    container = buildah("from", image)
    try:
        return subprocess.run(
            ["buildah", "--storage-driver", "vfs", "run", "--isolation", "chroot",
             "--user", user, *_env_flags(env or {}), container, "--", *command],
            capture_output=True, text=True, timeout=120, check=False)
    finally:
        buildah("rm", container)


class RunningContainer:
    """A long-running process in a container; stopped by its process group."""

    def __init__(self, image: str, command: list[str], env: dict[str, str],
                 log: Path, user: str):
        self.container = buildah("from", image)
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                ["buildah", "--storage-driver", "vfs", "run", "--isolation",
                 "chroot", "--user", user, *_env_flags(env), self.container,
                 "--", *command],
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, 15)
            self.process.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait()
        buildah("rm", self.container)


def _env_flags(env: dict[str, str]) -> list[str]:
    return [flag for name, value in env.items() for flag in ("--env",
                                                              f"{name}={value}")]
