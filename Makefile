# Developer entry points. Works from a fresh clone with Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Stamp for "the venv holds this pyproject's dependencies".
INSTALLED := $(VENV)/.installed

.PHONY: venv demo test lint bench clean

venv: $(INSTALLED)

# A current pip first: the one bundled with Python 3.11 cannot untangle boto3's
# botocore pin from aiobotocore's (via s3fs) and gives up.
$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[test]'
	touch $@

# The demo's events are IoT-23's; the page cites them.
DEMO_NOTICE := Demo data: IoT-23 (Stratosphere Laboratory, CTU Prague; Garcia, \
Parmisano, Erquiaga, 2020; doi 10.5281/zenodo.4743746), capture \
CTU-IoT-Malware-Capture-34-1.

demo: venv
	$(BIN)/python -m demo.build_store demo-store
	SOC_COPILOT_STORE=$(CURDIR)/demo-store SOC_COPILOT_NOTICE="$(DEMO_NOTICE)" \
		$(BIN)/soc-copilot serve --port 5006

test: venv
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check .

# Measurements, not tests: served app in Chromium on the demo store, then
# 100k, 1M and 10M scored events on a local S3 server, then 50M events as
# Parquet parts through a local Dask cluster (docs/performance.md).
# BENCH_NOTE is written under the scale table, e.g. that the machine was shared.
BENCH_NOTE ?=
bench: venv
	$(BIN)/python -m benchmarks.page_load --runs 5
	$(BIN)/python -m benchmarks.sessions --sessions 1 5 10 25 --runs 3
	$(BIN)/python -m benchmarks.scale --runs 5 --note "$(BENCH_NOTE)"
	$(BIN)/python -m benchmarks.dask_scale --rows 50M --parts 50 --runs 5 \
		--note "$(BENCH_NOTE)"

clean:
	rm -rf demo-store build dist *.egg-info .pytest_cache .ruff_cache test-results
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
