"""Render the kustomizations the way ``kubectl apply -k`` would, offline."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
CONTAINERFILE = ROOT / "Containerfile"


def tool(name: str) -> str:
    """A command installed by the test extras into this interpreter's venv."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed; run make venv")
    return found


def render(folder: Path) -> list[dict]:
    """The objects ``kubectl kustomize folder`` produces."""
    result = subprocess.run([tool("kubectl"), "kustomize", str(folder)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def by_kind(objects: list[dict]) -> dict[str, dict]:
    kinds = [obj["kind"] for obj in objects]
    assert len(kinds) == len(set(kinds)), f"more than one of a kind: {kinds}"
    return {obj["kind"]: obj for obj in objects}


def app_container(deployment: dict) -> dict:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == "soc-copilot")


def containerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined."""
    joined = CONTAINERFILE.read_text().replace("\\\n", " ")
    pairs = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            word, _, rest = stripped.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs
