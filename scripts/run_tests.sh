#!/usr/bin/env bash
# The whole MoodLens test suite (called by `make test` and, through it, by .ci/run).
# Browser tests need Debian's Chromium, and the report test reads PDFs with pdftotext
# (poppler-utils): install them when they are missing and we may.
set -uo pipefail
cd "$(dirname "$0")/.."

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  if [ "$SUDO" = none ]; then
    echo "The tests need Debian's ${missing[*]}: run 'sudo apt-get install -y ${missing[*]}' once." >&2
    exit 2
  fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null \
    || { echo "Could not install ${missing[*]}." >&2; exit 2; }
fi

mkdir -p test-artifacts
# The import contracts of pyproject.toml (docs/architecture.md) first: a broken layer fails CI.
.venv/bin/lint-imports || exit 1
# Every string of the code and templates translated in every shipped catalogue (docs/translations.md).
.venv/bin/python scripts/check_translations.py || exit 1
# shellcheck disable=SC2086  # PYTEST_ARGS is a list of words on purpose
.venv/bin/python -m pytest ${PYTEST_ARGS:-}
status=$?
if [ "$status" = 5 ]; then
  echo "pytest collected no tests: that is a failure, not a pass." >&2
  exit 1
fi
exit "$status"
