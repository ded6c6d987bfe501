#!/bin/sh
# Prints the path of the interpreter that PYTHON names (python3.13, a path, ...), so that
# `PYTHON=python3.13 make test` works where pyenv provides Python 3.13 without putting it on PATH
# (pyenv's shim then says "command not found").
want="${1:-python3}"
if path=$("$want" -c 'import sys; print(sys.executable)' 2>/dev/null); then
  echo "$path"
  exit 0
fi
if command -v pyenv >/dev/null 2>&1; then
  for version in $(pyenv whence "$want" 2>/dev/null); do
    path="$(pyenv root)/versions/$version/bin/$want"
    if [ -x "$path" ]; then
      echo "$path"
      exit 0
    fi
  done
fi
echo "error: no Python interpreter '$want' (PYTHON=$want). Install it or name its path," \
  "for example PYTHON=/usr/bin/python3.13 make test" >&2
exit 1
