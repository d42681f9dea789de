# The two set-up commands: `make run` (app on the embedded Chicago demo) and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test test-explore install install-dev lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# --no-compile: Python compiles a module when it is first imported, so the thousands of
# modules of torch, scipy and the rest that the app never imports are not compiled at
# install time (a clean install takes half the time). The dev install resolves the runtime
# and test requirements in one pip call.
PIP_INSTALL := $(BIN)/pip install -q --no-compile

$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -r requirements.txt
	$(PIP_INSTALL) --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -r requirements.txt -r requirements-dev.txt
	$(PIP_INSTALL) --no-deps -e .
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.address 127.0.0.1 \
		--server.headless true --browser.gatherUsageStats false

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The whole suite in two parts: everything but the wall-clock tests on $(TEST_WORKERS) worker
# processes (pytest-xdist; --dist loadscope keeps a module on one worker, so its fixtures are
# built once; --no-loadscope-reorder keeps the longest-first order of tests/conftest.py instead
# of xdist's most-tests-first), then the tests marked `timing` alone, so that no neighbour
# slows a cancel that must stop within seconds.
# The second run collects only the modules that hold a timing test (6 s less start-up).
TEST_WORKERS ?= 2
TIMING_MODULES = $(shell grep -rl --include='test_*.py' 'pytest.mark.timing' tests | sort)
test: install-dev lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder -m "not timing"
	$(BIN)/python -m pytest -m timing $(TIMING_MODULES)

# Hypothesis with fresh randomness and ten times the examples (tests/hypothesis_profiles.py);
# pin every failing case it finds with @example. Browser tests are left out.
test-explore: install-dev
	HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest -m "not browser" $(ARGS)

bench: install
	$(BIN)/python bench/features.py
	$(BIN)/python bench/dl_fit.py
	$(BIN)/python bench/classical_fit.py
	$(BIN)/python bench/bootstrap.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
