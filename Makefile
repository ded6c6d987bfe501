# The two commands of the README: `make run` and `make test`. Both bootstrap .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck unit chat bench clean rasa rasa-validate nlu-eval

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
	$(BIN)/pytest tests/bench -m bench -o python_files='bench_*.py' -p no:randomly -q -s
	$(BIN)/python -m tests.bench.bench_rest_load
	$(BIN)/python -m tests.bench.bench_rest_load --db postgres

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache

# Rasa as the second NLU backend, in its own Python 3.10 venv (.venv-rasa, ~2.7 GB).
# `make rasa` builds the venv, trains on nlu_data/train when the data changed, and serves
# /model/parse on 127.0.0.1:5005 (then: VK_RASA_URL=http://127.0.0.1:5005).
RASA_VENV := .venv-rasa
RASA_MODEL := deploy/rasa/models/nlu.tar.gz
RASA_ENV := RASA_TELEMETRY_ENABLED=false

$(RASA_MODEL): $(wildcard nlu_data/train/*.yml) deploy/rasa/config.yml deploy/rasa/domain.yml
	scripts/rasa_venv.sh
	$(RASA_ENV) $(RASA_VENV)/bin/rasa train nlu --config deploy/rasa/config.yml \
		--nlu nlu_data/train --domain deploy/rasa/domain.yml \
		--out deploy/rasa/models --fixed-model-name nlu

rasa: $(RASA_MODEL)
	$(RASA_ENV) $(RASA_VENV)/bin/rasa run --enable-api -m $(RASA_MODEL) \
		-i 127.0.0.1 -p 5005 --endpoints deploy/rasa/endpoints.yml \
		--credentials deploy/rasa/credentials.yml

rasa-validate:
	scripts/rasa_validate.sh

# Both backends on the held-out split (Rasa must be running: `make rasa` in another shell).
nlu-eval: $(STAMP)
	mkdir -p var
	$(BIN)/vrijwilligerskracht nlu eval --json > var/nlu-eval-spacy.json
	$(BIN)/vrijwilligerskracht nlu eval --backend rasa --json > var/nlu-eval-rasa.json
