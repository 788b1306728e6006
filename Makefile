# sluice: the two set-up commands are `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS ?= dev,mysql,mssql,airflow
SCALE ?= 0.01
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
comma := ,

.PHONY: demo test soak lint format bench bench-full lock clean embedded-stop help airflow venv
.PHONY: check-astro

# Airflow's API server (the UI) listens on $AIRFLOW__API__PORT when set, else 8080.
AIRFLOW_PORT = $(or $(AIRFLOW__API__PORT),8080)

help:
	@echo "make demo    - generate StackOverflow2010 (SCALE=$(SCALE)), replicate it through Airflow, verify it;"
	@echo "              DATA=path: import that Stack Exchange dump (a site folder or .7z) instead"
	@echo "make test    - lint + the whole test suite (PYTEST_ARGS=... passes arguments to pytest)"
	@echo "make soak    - the seeded fault-injection tests with SOAK_RUNS=$(SOAK_RUNS) runs per case (make test: 2-3)"
	@echo "make airflow - Airflow on the embedded PostgreSQL, LocalExecutor (UI http://localhost:$(AIRFLOW_PORT), admin/admin);"
	@echo "              EXECUTOR=celery WORKERS=2: CeleryExecutor, 2 workers, Redis at SLUICE_CELERY_BROKER_URL"
	@echo "make embedded-stop - stop the embedded PostgreSQL (after make demo / make airflow)"
	@echo "make lint    - ruff check + ruff format --check + ruff's Airflow rules (AIR) on dags plugins include"
	@echo "make format  - ruff format + ruff check --fix"
	@echo "make venv    - create .venv with the pinned dependencies (EXTRAS=$(EXTRAS))"
	@echo "make bench   - every copy method vs the psql COPY pipe and each engine's own file load"
	@echo "              and export (the ceilings) at SCALE (+ chart), peak RSS at BENCH_SCALES,"
	@echo "              verification's cost, a 1% sync, and the same by change capture"
	@echo "              (third-party tools in bench/.venv-tools)"
	@echo "make bench-full - pipe vs sluice once at scale 1.0 (10.7M rows)"
	@echo "make lock    - regenerate constraints.txt from pyproject.toml"
	@echo "make check-astro - the Astro image without Docker: Python 3.12 venv in .sluice/astro-venv with"
	@echo "              the runtime's Airflow, requirements.txt, the Dockerfile's pip line; DAG parse,"
	@echo "              .astro integrity test, pytest tests/ (slow; not part of make test; PYTEST_ARGS=...)"
	@echo "make clean   - stop the embedded PostgreSQL and remove .venv and .sluice"
	@echo "make help    - this list"

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "pip==26.3"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[$(EXTRAS)]"
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

# Benchmarks (see docs/benchmarks.md), on StackOverflow2010 at SCALE (0.1 unless given:
# the demo's 0.01 would time start-up more than copying): methods side by side with the psql
# binary COPY pipe and each engine's own file load and export, then peak RSS at BENCH_SCALES, then verification's cost, then a sync of
# 1% changed rows against a full copy, then the same changes by change capture (bench/cdc.py),
# then SQL Server -> PostgreSQL's Python cost of pymssql-shaped rows, decoded and as CSV lines
# (bench/mssql_decode.py: no SQL Server needed).
# BENCH_PG_URL / BENCH_MYSQL_URL pick servers; without BENCH_PG_URL the embedded PostgreSQL.
# Change capture needs wal_level=logical: the embedded PostgreSQL unless BENCH_CDC_PG_URL.
BENCH_SCALE = $(if $(filter command line environment,$(origin SCALE)),$(SCALE),0.1)
BENCH_SCALES ?= 0.1,1.0
BENCH_RUNS ?= 3
BENCH_SERVERS = $(if $(BENCH_PG_URL),--server $(BENCH_PG_URL)) $(if $(BENCH_MYSQL_URL),--mysql $(BENCH_MYSQL_URL))
bench: $(STAMP)
	$(BIN)/python bench/compare.py --scale $(BENCH_SCALE) --runs $(BENCH_RUNS) $(BENCH_SERVERS)
	$(BIN)/python bench/memory.py --scales $(BENCH_SCALES) $(BENCH_SERVERS)
	$(BIN)/python bench/verify.py --scale $(BENCH_SCALE) --runs $(BENCH_RUNS) $(BENCH_SERVERS)
	$(BIN)/python bench/sync.py --scale $(BENCH_SCALE) --runs $(BENCH_RUNS) $(if $(BENCH_PG_URL),--server $(BENCH_PG_URL))
	$(BIN)/python bench/cdc.py --scale $(BENCH_SCALE) --runs $(BENCH_RUNS) $(if $(BENCH_CDC_PG_URL),--server $(BENCH_CDC_PG_URL))
	$(BIN)/python bench/mssql_decode.py --runs $(BENCH_RUNS) $(if $(BENCH_PG_URL),--server $(BENCH_PG_URL))

# The full-scale run recorded in docs/benchmarks.md: ~10.7M rows, pipe vs sluice, once.
bench-full: $(STAMP)
	$(BIN)/python bench/compare.py --scale 1.0 --runs 1 --methods pipe,sluice $(BENCH_SERVERS) \
		--json bench/results/compare-full.json

demo: $(STAMP)
	$(BIN)/sluice demo --scale $(SCALE) $(if $(DATA),--data $(DATA))

# Airflow 3 on the embedded PostgreSQL (metadata database `airflow`), UI on 127.0.0.1:$(AIRFLOW_PORT)
# (admin/admin). EXECUTOR=celery WORKERS=N: CeleryExecutor, N workers, Redis at
# $$SLUICE_CELERY_BROKER_URL (default redis://127.0.0.1:6379/0). Stop with Ctrl-C, then
# `make embedded-stop`.
EXECUTOR ?= local
airflow: $(STAMP)
	$(BIN)/sluice airflow --scale $(SCALE) --executor $(EXECUTOR) $(if $(WORKERS),--workers $(WORKERS))

lint: $(STAMP)
	$(BIN)/ruff check src tests dags bench tools
	$(BIN)/ruff format --check src tests dags bench tools
	$(BIN)/ruff check --select AIR --preview dags plugins include

format: $(STAMP)
	$(BIN)/ruff format src tests dags bench tools
	$(BIN)/ruff check --fix src tests dags bench tools

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The fault-injection suites with more seeded instants per case than make test runs
# (docs/reliability.md): backends terminated, stalls and resets, servers restarted.
SOAK_RUNS ?= 10
soak: $(STAMP)
	SLUICE_FAULT_RUNS=$(SOAK_RUNS) $(BIN)/python -m pytest -s tests/reliability/test_fault_lines.py \
		tests/reliability/test_liveness.py tests/reliability/test_restarts.py $(PYTEST_ARGS)
	SLUICE_RESUME_SCALE=0.1 $(BIN)/python -m pytest -s tests/reliability/test_resume.py $(PYTEST_ARGS)

lock:
	$(PYTHON) -m venv .sluice/uv && .sluice/uv/bin/pip install --quiet uv
	grep -v '^# ' constraints.txt > constraints.txt.new  # the pins kept: a new package adds, never bumps
	.sluice/uv/bin/uv pip compile pyproject.toml --all-extras --universal --python-version 3.10 --no-header -o constraints.txt.new
	( printf '%s\n' '# Pinned, reproducible dependency set for every extra (Python 3.10+, any platform).' \
	  '# Regenerate with `make lock` after changing pyproject.toml; never edit by hand.'; cat constraints.txt.new ) > constraints.txt
	rm -f constraints.txt.new

# The Astro project as its image would hold it, checked without Docker (docs/airflow.md,
# "make check-astro"): slow (a fresh Airflow install), so never part of `make test`.
check-astro:
	$(PYTHON) tools/check_astro.py $(if $(PYTEST_ARGS),--pytest-args "$(PYTEST_ARGS)")

embedded-stop:
	@test -x $(BIN)/sluice && $(BIN)/sluice embedded stop || true

clean: embedded-stop
	rm -rf $(VENV) .sluice
