#!/usr/bin/env bash
# Run the official Engine.IO and Socket.IO protocol test suites against scripts/protocol_server.py,
# on the fast broadcast path and on stock python-socketio, and print each suite's pass count.
# The suites live on GitHub only (no package registry carries them): they are cloned into
# PROTOCOL_SUITES_DIR (default /tmp/protocol-suites) unless already there; Node.js and npm install
# mocha and its few dependencies from the npm registry.
# Usage: bash scripts/protocol-suites.sh   (both suites, both paths; SUITES=socket.io for one)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${PROTOCOL_SUITES_DIR:-/tmp/protocol-suites}
PY=${PY:-.venv/bin/python}
mkdir -p "$DIR"
for suite in engine.io socket.io; do
  [ -d "$DIR/$suite-protocol" ] || git clone -q --depth 1 "https://github.com/socketio/$suite-protocol" "$DIR/$suite-protocol"
  (cd "$DIR/$suite-protocol/test-suite" && [ -d node_modules ] || npm ci --silent --no-audit --no-fund)
done

status=0
for suite in ${SUITES:-engine.io socket.io}; do
  for path in fast stock; do
    "$PY" scripts/protocol_server.py "$suite" --path "$path" & server=$!
    for _ in $(seq 100); do "$PY" -c "import socket; socket.create_connection(('127.0.0.1', 3000), 0.2)" 2>/dev/null && break; sleep 0.1; done
    report=$(cd "$DIR/$suite-protocol/test-suite" && timeout 300 npx mocha test-suite.js --exit --reporter json 2>/dev/null || true)
    kill $server 2>/dev/null || true; wait $server 2>/dev/null || true
    echo "$report" | "$PY" scripts/protocol_server.py "$suite" --path "$path" --report || status=1
  done
done
exit $status
