# The commands README, CI and people use. Every target creates .venv when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test check compat bench bench-smoke docs clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

PORT ?= 8000

run: $(STAMP)  ## serve examples/demo on http://127.0.0.1:8000 (PORT=...) with reload
	TRIVIUM_DEMO_SITE_URL=$${TRIVIUM_DEMO_SITE_URL:-http://127.0.0.1:$(PORT)} \
	$(VENV)/bin/trivium run examples.demo.app:app --host 127.0.0.1 --port $(PORT) --reload

test: $(STAMP)  ## the whole suite over ASGI and, side by side, with apps driven through RSGI
	$(PY) tests/passes.py

check: $(STAMP)  ## ruff, mypy --strict, import contracts
	$(VENV)/bin/ruff check src tests examples
	$(VENV)/bin/ruff format --check src tests examples
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

compat: $(STAMP)  ## FastAPI's whole tutorial suite on trivium.compat vs FastAPI (docs/compat.md)
	$(PY) tests/compat_fastapi/harness.py

bench: $(STAMP)  ## the full benchmark; writes bench/RESULTS.md
	$(PY) -m pip install -q -r bench/requirements.txt
	$(PY) bench/run.py

bench-smoke: $(STAMP)  ## every benchmark app answers correctly (no timing)
	$(PY) -m pip install -q -r bench/requirements.txt
	$(PY) bench/run.py --smoke --strict

docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache
