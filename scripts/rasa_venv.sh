#!/usr/bin/env bash
# Builds .venv-rasa: Rasa's own Python 3.10 venv (rasa==3.6.21), separate from the app's .venv.
# Idempotent: does nothing when the venv already has the pinned rasa.
set -euo pipefail
cd "$(dirname "$0")/.."
PY310="${RASA_PYTHON:-/root/.pyenv/versions/3.10.13/bin/python}"
VENV="${RASA_VENV:-.venv-rasa}"
RASA_VERSION="3.6.21"
if [ -x "$VENV/bin/rasa" ] && "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('rasa') != '$RASA_VERSION')" 2>/dev/null; then
  exit 0
fi
if [ ! -x "$PY310" ]; then
  PY310="$(command -v python3.10 || true)"
fi
if [ -z "$PY310" ]; then
  echo "rasa_venv: Python 3.10 not found (set RASA_PYTHON)" >&2
  exit 1
fi
test -x "$VENV/bin/python" || "$PY310" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade "pip<25" "setuptools<70" wheel
"$VENV/bin/python" -m pip install -q "rasa==$RASA_VERSION"
"$VENV/bin/rasa" --version
