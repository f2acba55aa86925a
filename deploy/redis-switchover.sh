#!/bin/sh
# Planned switch of the Redis primary (maintenance, upgrade) that loses no acknowledged donation.
#
# "SENTINEL FAILOVER" alone promotes a replica while the old primary still accepts writes for
# a few seconds (until Sentinel reconfigures it), and a replica still attached to it confirms
# them (storage.redis_min_replicas): those donations are answered 201, then lost when that
# replica resyncs from the new primary. Measured in tests/topology/ (docs/deployment.md).
# So: pause writes on the primary, wait until every replica holds everything, let Sentinel
# promote one, make the old primary a replica of it (Sentinel would, but only some time
# later), release. Writes sent meanwhile get 503 from the overlay servers and are retried.
#
# Usage: redis-switchover.sh SENTINEL_HOST SENTINEL_PORT [SERVICE]   (REDISCLI_AUTH: password)
set -eu
s_host=$1 s_port=$2 service=${3:-overlay}
pause_ms=${PAUSE_MS:-30000}  # upper bound: released as soon as the switch is done

sentinel() { redis-cli -h "$s_host" -p "$s_port" "$@"; }
# shellcheck disable=SC2046  # two words: host, port
set -- $(sentinel SENTINEL get-master-addr-by-name "$service")
p_host=$1 p_port=$2
primary() { redis-cli -h "$p_host" -p "$p_port" "$@"; }
release() { primary CLIENT UNPAUSE >/dev/null 2>&1 || true; }
fail() { echo "redis-switchover: $*" >&2; release; exit 1; }

# Every replica at the primary's offset (all "slaveN:...,offset=N" equal to master_repl_offset).
caught_up() {
  primary INFO replication | tr -d '\r' | awk -F'[:=,]' '
    /^master_repl_offset:/ { want = $2 }
    /^slave[0-9]+:/ { n++; for (i = 1; i < NF; i++) if ($i == "offset") have[n] = $(i + 1) }
    END { if (!n) exit 1; for (i = 1; i <= n; i++) if (have[i] != want) exit 1 }'
}

wait_for() {  # wait_for SECONDS COMMAND...: true once COMMAND succeeds
  limit=$(( $1 * 10 )); shift
  while ! "$@"; do
    limit=$(( limit - 1 )); [ "$limit" -gt 0 ] || return 1
    sleep 0.1
  done
}

promoted() { [ "$(sentinel SENTINEL get-master-addr-by-name "$service" | paste -sd' ')" != "$p_host $p_port" ]; }

echo "pausing writes on $p_host:$p_port"
primary CLIENT PAUSE "$pause_ms" WRITE >/dev/null
wait_for 10 caught_up || fail "replicas did not catch up with the primary"
sentinel SENTINEL FAILOVER "$service" >/dev/null || fail "Sentinel refused the failover"
wait_for $(( pause_ms / 1000 - 5 )) promoted || fail "Sentinel did not promote a replica in time"
# shellcheck disable=SC2046  # two words: host, port
primary REPLICAOF $(sentinel SENTINEL get-master-addr-by-name "$service") >/dev/null
release
echo "primary is now $(sentinel SENTINEL get-master-addr-by-name "$service" | paste -sd:)"
