"""The conda environment and the Python package declare the same runtime."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_lists_the_same_runtime_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_name(r): r.replace(" ", "") for r in project["dependencies"]}
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {
        _name(entry): entry.replace(" ", "")
        for entry in environment["dependencies"]
        if isinstance(entry, str) and _name(entry) not in ("python", "pip")
    }
    assert conda == declared


def test_environment_installs_the_project_itself():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_entries = next(e["pip"] for e in environment["dependencies"]
                       if isinstance(e, dict))
    assert "-e ." in pip_entries
