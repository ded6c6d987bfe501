#!/usr/bin/env bash
# CI step: `rasa data validate` over nlu_data/ (train and held-out test), stories/ and the
# domain, in Rasa's own venv (.venv-rasa, built by scripts/rasa_venv.sh if missing).
# Fails when Rasa exits non-zero (unreadable files) and on the findings that are errors in
# substance although Rasa 3.6 prints them as warnings: intents, actions, entities or slots
# that stories use but the domain lacks; one example under two intents; misaligned entity
# annotations; story conflicts. The remaining warnings ("intent X is not used in any story")
# are printed and do not fail: not every intent needs a story.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/rasa_venv.sh
if [ -x .venv/bin/python ]; then
  # The domain is generated from nlu_data/ and stories/: stale means someone forgot to rerun it.
  .venv/bin/python scripts/rasa_domain.py --check
fi
export RASA_TELEMETRY_ENABLED=false
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
.venv-rasa/bin/rasa data validate \
  --domain deploy/rasa/domain.yml \
  --data nlu_data stories \
  --config deploy/rasa/config.yml >"$log" 2>&1 || status=$?
# Show what Rasa said, without its dependency noise.
grep -E "rasa\.validator|UserWarning|ERROR|Error|error" "$log" \
  | grep -vE "pkg_resources|declare_namespace|MovedIn20|xla_computation|Location 'file" || true
errors='not listed in the domain|not part of the domain|not a valid utterance action'
errors+='|labeled with multiple different intents|Misaligned entity annotation|CONFLICT'
errors+='|is not in the domain|not found in the domain| ERROR '
if [ "$status" -ne 0 ] || grep -qE "$errors" "$log"; then
  echo "rasa data validate: FAILED (exit $status)" >&2
  tail -n 40 "$log" >&2
  exit 1
fi
echo "rasa data validate: OK"
