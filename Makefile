# Everything a fresh machine with only Python 3.11 needs: `make run`, `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint check bench i18n clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bot main

test: $(TEST_STAMP)
	$(BIN)/python -m ruff check bot tests bench
	$(BIN)/python -m ruff format --check bot tests bench
	$(BIN)/python -m bot check
	$(BIN)/python -m pytest

lint: $(TEST_STAMP)
	$(BIN)/python -m ruff check --fix bot tests bench
	$(BIN)/python -m ruff format bot tests bench

check: $(STAMP)
	$(BIN)/python -m bot check

bench: $(TEST_STAMP)
	$(BIN)/python bench/matcher.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
