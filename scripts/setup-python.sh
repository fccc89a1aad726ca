#!/usr/bin/env bash
# Installs the Python test tooling: moto server, cfn-lint + serverless rules into .venv
# (requirements-dev.txt), checkov into .venv-checkov (requirements-checkov.txt; it pins an older
# botocore that breaks moto). Idempotent: each venv is redone only when its requirements changed.
set -euo pipefail
cd "$(dirname "$0")/.."
# Test files in parallel jest workers call this at once: one installs, the others wait for it.
exec 9<"$0"
flock 9
install() { # <venv> <requirements>
  local stamp="$1/.requirements.sha256" want
  want=$(sha256sum "$2" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  python3 -m venv --clear "$1"
  "$1/bin/pip" install --quiet --disable-pip-version-check -r "$2"
  echo "$want" > "$stamp"
}
install .venv requirements-dev.txt
install .venv-checkov requirements-checkov.txt
