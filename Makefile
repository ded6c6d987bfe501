# The two commands of the README: `make run` and `make test`. Both bootstrap .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck unit chat bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/vrijwilligerskracht serve

chat: $(STAMP)
	$(BIN)/vrijwilligerskracht chat

lint: $(STAMP)
	$(BIN)/ruff check quiz bot tests scripts
	$(BIN)/ruff format --check quiz bot tests scripts

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/pytest tests/bench -m bench -p no:randomly --benchmark-only -q

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
