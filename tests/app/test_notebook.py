"""The views in a headless Jupyter kernel, as an analyst would use them."""

from __future__ import annotations

import json
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from demo.build_store import BUCKETS
from tests.conftest import SECRET_KEY

KERNEL = "python3"
HOLOVIEWS_BUNDLE = "application/vnd.holoviews_exec.v0+json"

SCORED_FRAME = """\
import numpy as np
import pandas as pd

n = 50
scored = pd.DataFrame({
    "timestamp": pd.date_range("2018-12-22", periods=n, freq="min"),
    "src_ip": "192.168.1.195",
    "dest_ip": [f"10.0.0.{i % 5}" for i in range(n)],
    "ml_score": np.linspace(0.0, 1.0, n),
    "ml_is_outlier": np.linspace(0.0, 1.0, n) > 0.9,
})
AnomalyView(data=scored)"""


@pytest.fixture
def venv_kernel(tmp_path, monkeypatch) -> str:
    """A ``python3`` kernelspec that runs this interpreter, found before any other."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher",
                 "-f", "{connection_file}"],
        "display_name": "SOC Copilot tests",
        "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return KERNEL


def notebook(env: dict[str, str]) -> nbformat.NotebookNode:
    cells = [
        f"import os, sys\nos.environ.update({env!r})\nprint(sys.executable)",
        "import panel as pn\n"
        "from components.catalog import Catalog\n"
        "from components.views import AnomalyView\n"
        "pn.extension('tabulator')\n"
        "catalog = Catalog.from_env()",
        "AnomalyView(catalog=catalog)",
        SCORED_FRAME,
    ]
    return nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in cells])


def rendered(cell) -> str:
    """The HTML of the cell's HoloViz output; fails when there is none."""
    bundles = [output["data"] for output in cell.outputs
               if HOLOVIEWS_BUNDLE in output.get("data", {})]
    assert bundles, f"no HoloViz output from: {cell.source}"
    return "".join(bundle["text/html"] for bundle in bundles)


def test_notebook_shows_views_over_s3_and_over_a_dataframe(
        venv_kernel, s3_env, uploaded_buckets, latest_run, tmp_path):
    book = notebook(s3_env)
    NotebookClient(book, kernel_name=venv_kernel, timeout=180, allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()

    outputs = [output for cell in book.cells for output in cell.outputs]
    assert [o for o in outputs if o["output_type"] == "error"] == []
    assert book.cells[0].outputs[0]["text"].strip() == sys.executable
    assert latest_run[BUCKETS["silver"]][0] in rendered(book.cells[2])
    assert "data (50 events; score: ml_score)" in rendered(book.cells[3])
    assert SECRET_KEY not in json.dumps(outputs)
