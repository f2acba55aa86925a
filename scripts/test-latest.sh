#!/usr/bin/env bash
# The suite on the newest release of every dependency pyproject.toml allows, in a venv of
# its own (.venv-latest), with scripts/test.sh's private Redis; then which broadcast path
# the fast path's start-up self-test chose on those releases.
# Usage: bash scripts/test-latest.sh [pytest args...]   (default: -q -p no:cacheprovider)
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- -q -p no:cacheprovider

VENV=.venv-latest PIP_INSTALL_ARGS="-U --upgrade-strategy eager" bash scripts/test.sh "$@"
status=$?

echo "== newest releases (scripts/test-latest.sh, $(date -u +%Y-%m-%d)) =="
.venv-latest/bin/python - <<'PY'
from importlib.metadata import version
from overlay.realtime.fastcheck import run_self_test
names = ("python-socketio", "python-engineio", "aiohttp", "redis", "pydantic", "jinja2", "aiortc", "pytest")
print(", ".join(f"{n} {version(n)}" for n in names))
passed, reason = run_self_test()
print(f"fast broadcast path: {'on' if passed else 'off (stock python-socketio)'}: {reason}")
PY
echo "suite exit status: $status"
exit $status
