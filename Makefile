# The two commands a new user runs: `make demo` and `make test`.
# Everything installs into .venv; nothing relies on what the machine happens to have.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo lab test lint bench browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) notebooks/run_demo.py

# JupyterLab from the project's own environment, on the example notebooks (Ctrl-C stops it).
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

# Debian's chromium drives the browser tests; install it when missing and we can.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing and cannot be installed here: browser tests will be skipped"; fi; }

lint: $(STAMP)
	$(PY) -m ruff check wdbx_notebook tests benchmarks notebooks
	$(PY) -m ruff format --check wdbx_notebook tests benchmarks notebooks
	$(PY) -m mypy

test: $(STAMP) browser lint
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/overhead.py; status=$$?; $(PY) benchmarks/read_model.py || status=1; $(PY) benchmarks/magic.py || status=1; $(PY) benchmarks/widgets.py || status=1; $(PY) benchmarks/collect.py || status=1; $(PY) benchmarks/views.py && exit $$status

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
