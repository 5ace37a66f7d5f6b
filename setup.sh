#!/usr/bin/env bash
# Sets Warta up on a fresh machine: a virtual environment in .venv with the pinned dependencies.
#   bash setup.sh          runtime dependencies (requirements.txt)
#   bash setup.sh --test   and the test-only ones (requirements-test.txt)
set -euo pipefail
cd "$(dirname "$0")"
requirements=requirements.txt
if [ "${1:-}" = "--test" ]; then requirements=requirements-test.txt; fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
