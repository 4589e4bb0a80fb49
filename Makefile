# GenSandbox: `make demo` runs the default comparison, `make test` runs every test.
# Both create and use .venv/ and install what they need (the first install compiles llama.cpp:
# about 10 minutes on 2 cores; pip caches the wheel, so later installs take seconds).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
OUT := out

.PHONY: demo test test-fast lint bench docs clean

# llama.cpp's own build tunes itself to the CPU it is built on (-march=native). Where a CPU lists instructions that
# its virtual machine does not let a process use (AMX tiles, seen here), that build dies with "illegal instruction"
# on its first token. So it is built once for x86-64-v3 (AVX2, FMA, F16C: every x86 server of the last decade) into
# a wheel folder outside the repository, which clean clones and CI reuse: only the first install pays the ~8 min.
LLAMA_VERSION := 0.3.36
LLAMA_WHEELS := $(HOME)/.cache/gensandbox/wheels/llama-x86-64-v3
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
ifeq ($(shell uname -m),x86_64)
LLAMA_WHEEL := $(LLAMA_WHEELS)/.built-$(LLAMA_VERSION)
FIND_LINKS := --find-links $(LLAMA_WHEELS)
endif

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "GenSandbox needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(LLAMA_WHEELS)/.built-$(LLAMA_VERSION): | $(BIN)/python
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel --quiet --no-cache-dir --no-deps --wheel-dir $(LLAMA_WHEELS) \
		llama-cpp-python==$(LLAMA_VERSION)
	@touch $@

$(VENV)/.installed-local: pyproject.toml $(LLAMA_WHEEL) | $(BIN)/python
	$(BIN)/pip install --quiet $(FIND_LINKS) -e '.[local]'
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(LLAMA_WHEEL) | $(BIN)/python
	$(BIN)/pip install --quiet $(FIND_LINKS) -e '.[local,dev,postgres,ray]'
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
