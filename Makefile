# The two commands of the README: `make run` and `make test`. Both bootstrap .venv themselves,
# exactly as uv.lock pins it (every dependency, for Python 3.11-3.13), with the Python PYTHON
# names: `PYTHON=python3.13 make test`. After editing dependencies in pyproject.toml:
# `make lock`; for the newest versions pyproject.toml allows: `make upgrade`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# uv (from PyPI, pinned) lives in its own small venv, so that syncing .venv never removes it.
UV_VERSION := 0.13.8
UV := .venv-uv/bin/uv
UV_STAMP := .venv-uv/.uv-$(UV_VERSION)
# One stamp per interpreter: naming another PYTHON syncs again (uv recreates .venv for it).
STAMP := $(VENV)/.synced-$(subst /,_,$(PYTHON))
FIND_PYTHON = $$(scripts/find_python.sh $(PYTHON))
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
# Installed packages come with their bytecode: where PYTHONDONTWRITEBYTECODE is set (as in our
# container image) every process would otherwise compile SQLAlchemy, FastAPI & co. again at
# each start, seconds per server start and per test that starts one.
export UV_COMPILE_BYTECODE := 1

.PHONY: run test lint typecheck unit chat bench clean lock upgrade rasa rasa-validate nlu-eval

$(UV_STAMP):
	rm -rf .venv-uv
	py=$(FIND_PYTHON) && "$$py" -m venv .venv-uv
	.venv-uv/bin/python -m pip install -q 'uv==$(UV_VERSION)'
	touch $@

$(STAMP): pyproject.toml uv.lock $(UV_STAMP)
	@py=$(FIND_PYTHON) && $(UV) lock --check --quiet --python "$$py" || { \
		echo "uv.lock does not match pyproject.toml: run 'make lock', then commit uv.lock" >&2; \
		exit 1; }
	py=$(FIND_PYTHON) && $(UV) sync --locked --extra dev --python "$$py"
	$(BIN)/python -m compileall -q bot quiz >/dev/null
	touch $@

# Re-resolve after pyproject.toml changed; every pin it does not have to move stays.
lock: $(UV_STAMP)
	py=$(FIND_PYTHON) && $(UV) lock --python "$$py"

# The newest versions pyproject.toml allows, then the whole suite on them (commit uv.lock).
upgrade: $(UV_STAMP)
	py=$(FIND_PYTHON) && $(UV) lock --upgrade --python "$$py"
	$(MAKE) test

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
	$(BIN)/python -m tests.bench.bench_channel_load --channel telegram
	$(BIN)/python -m tests.bench.bench_channel_load --channel telegram --db postgres
	$(BIN)/python -m tests.bench.bench_channel_load --channel whatsapp
	$(BIN)/python -m tests.bench.bench_channel_load --channel whatsapp --db postgres
	$(BIN)/python -m tests.bench.bench_whatsapp_burst
	$(BIN)/python -m tests.bench.bench_whatsapp_burst --db postgres

clean:
	rm -rf $(VENV) .venv-uv var .mypy_cache .ruff_cache

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
