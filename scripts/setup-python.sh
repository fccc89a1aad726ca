#!/usr/bin/env bash
# Installs the Python test tooling (moto server, cfn-lint + serverless rules, checkov) into a
# project-local .venv. Idempotent: re-runs only when requirements-dev.txt changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
# Test files in parallel jest workers call this at once: one installs, the others wait for it.
exec 9<"$0"
flock 9
stamp=.venv/.requirements-dev.sha256
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
echo "$want" > "$stamp"
