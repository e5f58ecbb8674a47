# repradar: two commands on a fresh machine — `make demo` and `make test`.
# Needs only python3 (3.11) and pip; uv is bootstrapped into ~/.local/bin if missing.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv
STAMP := $(VENV)/.synced
# `make test` also installs the `spark` extra (pyspark, dbt-spark) to test the Spark target.
TEST_STAMP := $(VENV)/.synced-spark
# Trust the platform's certificate store (registries behind a company proxy or mirror).
export UV_SYSTEM_CERTS ?= 1

.PHONY: demo test lint bench clean

$(UV):
	$(PYTHON) -m pip install --user --quiet "uv==0.13.9"

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --inexact --python $(PYTHON)
	@touch $(STAMP)

$(TEST_STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra spark --python $(PYTHON)
	@touch $(STAMP) $(TEST_STAMP)

demo: $(STAMP)
	$(VENV)/bin/repradar demo

# Two workers, one test file each at a time. One OpenMP/BLAS thread per process: two
# workers on two cores each spinning up all-core thread pools (scikit-learn's gradient
# boosting) run many times slower than one thread each.
test: $(TEST_STAMP)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(VENV)/bin/pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(TEST_STAMP)  # spark_parity needs the spark extra
	$(VENV)/bin/python benchmarks/cli_startup.py
	$(VENV)/bin/python benchmarks/generate_speed.py
	$(VENV)/bin/python benchmarks/ingest_speed.py --phases
	$(VENV)/bin/python benchmarks/transform_speed.py
	$(VENV)/bin/python benchmarks/model_quality.py
	$(VENV)/bin/python benchmarks/ibm_hr_check.py
	$(VENV)/bin/python benchmarks/model_truth.py
	$(VENV)/bin/python benchmarks/operations_speed.py
	$(VENV)/bin/python benchmarks/mapping_speed.py
	$(VENV)/bin/python benchmarks/spark_parity.py

clean:
	rm -rf $(VENV) data/demo .pytest_cache .ruff_cache
