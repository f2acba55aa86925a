#!/usr/bin/env bash
# Install what the tests need, start a private redis-server on a free port, run every test.
# Usage: bash scripts/test.sh [pytest args...]
# VENV (default .venv) names the virtualenv; PIP_INSTALL_ARGS go to its `pip install`
# (scripts/test-latest.sh: a separate venv upgraded to the newest releases).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=$(command -v python3.11 || command -v python3)
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
# shellcheck disable=SC2086  # PIP_INSTALL_ARGS is a list of words
"$VENV/bin/python" -m pip install -q --disable-pip-version-check ${PIP_INSTALL_ARGS:-} -e '.[test]'

# Debian packages the tests drive for real: a Redis server (and Redis Cluster), a Chromium browser, for
# tests/topology/ Redis Sentinel and HAProxy, the eSpeak NG speech engine (text-to-speech of
# messages) and sox (to check its clips are speech, not silence).
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-cli >/dev/null || missing+=(redis-tools)  # tests/test_redis_cluster.py creates a cluster with it
command -v redis-sentinel >/dev/null || missing+=(redis-sentinel)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v sox >/dev/null || missing+=(sox)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

port=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >/dev/null &
redis_pid=$!
trap 'kill $redis_pid 2>/dev/null; wait $redis_pid 2>/dev/null || true' EXIT
# Up within 60 s, however busy the machine, or stop here rather than fail every Redis test.
up=
for _ in $(seq 600); do
  "$VENV/bin/python" -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && up=1 && break
  kill -0 $redis_pid 2>/dev/null || break
  sleep 0.1
done
[ -n "$up" ] || { echo "scripts/test.sh: redis-server did not start on port $port" >&2; exit 1; }
export OVERLAY_TEST_REDIS_URL="redis://127.0.0.1:$port/0"

"$VENV/bin/python" -m pytest "$@"
