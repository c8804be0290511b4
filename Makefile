# Two commands a newcomer needs:  make demo  and  make test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= all
# The tests run in JOBS pytest-xdist workers (JOBS=1: one process, in order). Tests sharing an
# expensive fixture (one SLURM cluster, the golden scoring, the browser's runs) share a worker.
JOBS ?= 2
PYTEST := $(BIN)/python -m pytest $(if $(filter 1,$(JOBS)),,-n $(JOBS) --dist loadgroup)

.PHONY: setup demo test test-fast test-slurm test-system lint clean

# The virtualenv: Python 3.11+, the CPU build of torch (pinned in pyproject.toml),
# and this project installed editable with its test extras.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

setup: $(STAMP)

## make demo: set up, generate the synthetic demo data, run passthrough to a validated submission,
## score it against the demo references with the quick metric set (the full official set, the
## workflow's default, takes twice as long), and write report.html
DEMO_CONFIG := --config metrics=quick
demo: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) $(DEMO_CONFIG)
	$(BIN)/snakemake --cores $(CORES) $(DEMO_CONFIG) --report report.html

## make test: set up, then the whole test suite (what .ci/run calls). As root it first says
## which Debian packages the SLURM and browser tests will apt-get install (ECHI_NO_APT=1: none,
## those tests skip; run them later with make test-system)
test: $(STAMP)
	@$(BIN)/python tests/apt_packages.py
	$(PYTEST) -m fast
	$(PYTEST) -m "not fast"

## make test-fast: the development loop: the unit tests not marked slow (tests/unit)
test-fast: $(STAMP)
	$(PYTEST) -m fast

## make test-slurm: only the tests on a single-node SLURM cluster brought up on this machine
## (root: installs slurm-wlm and munge with apt-get if missing; skipped, saying why, otherwise)
test-slurm: $(STAMP)
	$(BIN)/python -m pytest tests/system/test_slurm.py

## make test-system: the tests that need Debian packages (SLURM, munge, Chromium)
test-system: $(STAMP)
	@$(BIN)/python tests/apt_packages.py
	$(PYTEST) tests/system/test_slurm.py tests/system/test_report_browser.py

## make lint: Snakemake's linter, snakefmt, ruff's checks and its formatter (CI fails on any of them)
lint: $(STAMP)
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check .
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf work demo_data .snakemake report.html
