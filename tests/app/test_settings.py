"""Settings that cannot work stop ``soc-copilot serve`` at once, naming the
variable, instead of showing analysts a traceback on every page."""

from __future__ import annotations

import subprocess

import pytest

from tests.app.conftest import SOC_COPILOT, server_environment


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("SOC_COPILOT_REFRESH_SECONDS", "abc", "is not a number of seconds"),
    ("SOC_COPILOT_REFRESH_SECONDS", "inf", "more than 0 seconds and finite"),
    ("SOC_COPILOT_READY_TIMEOUT", "-1", "more than 0 seconds and finite"),
    ("SOC_COPILOT_DASK_SCHEDULER", "http://dask:8786",
     "is not a Dask scheduler address"),
])
def test_a_bad_setting_stops_the_server_naming_it(tmp_path, name, value, reason):
    env = server_environment({"SOC_COPILOT_STORE": str(tmp_path), name: value})

    done = subprocess.run([str(SOC_COPILOT), "serve", "--port", "0"], env=env,
                          capture_output=True, text=True, timeout=60)

    assert done.returncode != 0
    assert f"{name}={value!r}" in done.stderr
    assert reason in done.stderr
    assert "Traceback" not in done.stderr
