#!/usr/bin/env bash
# Sets Warta up on a fresh machine: a virtual environment in .venv with the pinned dependencies.
#   bash setup.sh          runtime dependencies (requirements.txt)
#   bash setup.sh --test   and the test-only ones (requirements-test.txt), plus Debian's chromium
#                          and colour emoji font for the browser tests
set -euo pipefail
cd "$(dirname "$0")"
requirements=requirements.txt
if [ "${1:-}" = "--test" ]; then requirements=requirements-test.txt; fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
if [ "${1:-}" = "--test" ] && [ ! -x /usr/bin/chromium ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  echo "setup: installing Debian's chromium for the browser tests" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
# Article titles carry emoji (flags): without a colour emoji font the browser tests' screenshots
# show boxes where a reader's browser shows flags. Not needed to pass, so a failure only warns.
if [ "${1:-}" = "--test" ] && ! dpkg -s fonts-noto-color-emoji >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  echo "setup: installing Debian's colour emoji font for the browser tests' screenshots" >&2
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq fonts-noto-color-emoji >/dev/null; } \
    || echo "setup: could not install fonts-noto-color-emoji; screenshots will show boxes for emoji" >&2
fi
