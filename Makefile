# GenSandbox: `make demo` runs the default comparison, `make test` runs every test.
# Both create and use .venv/ and install what they need (the first install compiles llama.cpp:
# about 10 minutes on 2 cores; pip caches the wheel, so later installs take seconds).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
OUT := out

.PHONY: demo test test-fast lint bench docs clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "GenSandbox needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-local: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[local]'
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[local,dev,postgres,ray]'
	@touch $@ $(VENV)/.installed-local

demo: $(VENV)/.installed-local
	$(BIN)/gensandbox run --report $(OUT)/report.html

test: $(VENV)/.installed-dev
	$(BIN)/pytest

test-fast: $(VENV)/.installed-dev
	$(BIN)/pytest -m "not slow"

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks docs

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/local_throughput.py
	$(BIN)/python benchmarks/runner_overhead.py
	$(BIN)/python benchmarks/runner_overhead.py --rss

# Rewrites the command outputs README.md prints (between <!-- generated:NAME --> markers) from real runs
# on the embedded models, stamped with this machine; about 10 minutes on 2 cores.
docs: $(VENV)/.installed-local
	$(BIN)/python docs/regenerate.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
