#!/usr/bin/env bash
# Create the overlay's Redis Cluster once, from six running nodes (deploy/redis-cluster/redis-node.conf):
# three primaries, one replica each. Usage:
#   deploy/redis-cluster/create-cluster.sh host1:7000 host2:7000 host3:7000 host4:7000 host5:7000 host6:7000
# With a password: REDISCLI_AUTH=password deploy/redis-cluster/create-cluster.sh ...
# Then point every overlay host at three of them (any reachable node gives the client the rest):
#   storage.redis_url: redis+cluster://host1:7000,host2:7000,host3:7000
#   storage.redis_min_replicas: 1
set -euo pipefail
if [ "$#" -ne 6 ]; then
  echo "usage: $0 host1:port ... host6:port (three primaries and their replicas)" >&2
  exit 2
fi
redis-cli --cluster create "$@" --cluster-replicas 1 --cluster-yes
# Every node must agree before the servers start.
for node in "$@"; do
  for _ in $(seq 100); do
    redis-cli -h "${node%:*}" -p "${node##*:}" cluster info | grep -q '^cluster_state:ok' && break
    sleep 0.2
  done
  redis-cli -h "${node%:*}" -p "${node##*:}" cluster info | grep -q '^cluster_state:ok' || {
    echo "$node: cluster_state is not ok" >&2; exit 1; }
done
echo "cluster ready: redis+cluster://$1,$2,$3"
