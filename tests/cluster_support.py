"""A Redis Cluster of our own for tests/test_redis_cluster.py: 3 primaries, 3 replicas, on free
ports, made with ``redis-cli --cluster create`` as docs/deployment.md says."""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis.asyncio as aioredis

from tests.support import WAIT, free_port, until
from tests.topology.cluster import Process, binary


class ClusterNodeProcess:
    def __init__(self, work: Path):
        self.port = free_port()
        # the cluster bus on a free port too: its default, port + 10000, may be taken or above 65535
        self.args = [binary("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
                     "--cluster-enabled", "yes", "--cluster-port", str(free_port()),
                     "--cluster-config-file", str(work / f"nodes-{self.port}.conf"),
                     "--cluster-node-timeout", "1000", "--appendonly", "no", "--save", "", "--dir", str(work),
                     # a file of its own: a replica's full sync writes the primary's snapshot to disk and
                     # loads it back; three replicas syncing at once in one directory loaded each other's
                     "--dbfilename", f"dump-{self.port}.rdb"]
        self.log = work / f"redis-{self.port}.log"
        self.process = Process(self.args, self.log)

    def client(self) -> aioredis.Redis:
        return aioredis.Redis(port=self.port, decode_responses=True, socket_timeout=2)

    def restart(self) -> None:
        self.process = Process(self.args, self.log)


class RedisClusterProcesses:
    def __init__(self, size: int = 6):
        self.work = Path(tempfile.mkdtemp(prefix="overlay-cluster-"))
        self.nodes = [ClusterNodeProcess(self.work) for _ in range(size)]
        self.url = "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes[:3])

    def create(self) -> None:
        for node in self.nodes:
            until_up(node)
        subprocess.run([binary("redis-cli"), "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in self.nodes),
                        "--cluster-replicas", "1", "--cluster-yes"], check=True, capture_output=True, timeout=WAIT)

    async def ok(self, nodes: list[ClusterNodeProcess] | None = None) -> None:
        """Until every (running) node says cluster_state:ok and sees three primaries serving."""
        async def state() -> list[bool]:
            out = []
            for node in nodes or self.nodes:
                try:
                    async with node.client() as c:
                        info = await c.cluster("info")
                        out.append(info.get("cluster_state") == "ok" and int(info.get("cluster_size", 0)) == 3)
                except (OSError, aioredis.RedisError):
                    out.append(False)
            return out
        await until(state, all, what="cluster_state:ok on every node")

    async def primaries(self) -> list[ClusterNodeProcess]:
        found = []
        for node in self.nodes:
            if node.process.proc.poll() is not None:
                continue
            try:
                async with node.client() as c:
                    if (await c.info("replication"))["role"] == "master":
                        found.append(node)
            except (OSError, aioredis.RedisError):
                continue
        return found

    async def primary_of(self, key: str) -> int:
        """The port of the primary that serves ``key``'s slot."""
        async with self.nodes[0].client() as c:
            slot = await c.cluster("keyslot", key)
            for start, end, primary, *_ in await c.execute_command("CLUSTER SLOTS"):
                if start <= slot <= end:
                    return int(primary[1])
        raise AssertionError(f"no primary serves {key}")

    async def replica_of(self, primary: ClusterNodeProcess) -> ClusterNodeProcess:
        for node in self.nodes:
            async with node.client() as c:
                info = await c.info("replication")
                if info["role"] == "slave" and int(info["master_port"]) == primary.port:
                    return node
        raise AssertionError(f"no replica of {primary.port}")

    async def move_slot(self, key: str, source: ClusterNodeProcess, target: ClusterNodeProcess) -> None:
        """Move ``key``'s slot, with its keys, from primary ``source`` to primary ``target``, as
        ``redis-cli --cluster reshard`` does (clients learn of it from a MOVED reply)."""
        async with source.client() as src, target.client() as dst:
            slot = await src.cluster("keyslot", key)
            source_id, target_id = await src.execute_command("CLUSTER MYID"), await dst.execute_command("CLUSTER MYID")
            await dst.execute_command("CLUSTER SETSLOT", slot, "IMPORTING", source_id)
            await src.execute_command("CLUSTER SETSLOT", slot, "MIGRATING", target_id)
            while keys := await src.execute_command("CLUSTER GETKEYSINSLOT", slot, 100):
                await src.execute_command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", *keys)
            others = [n for n in await self.primaries() if n not in (source, target)]
            for node in [target, source, *others]:
                async with node.client() as c:
                    await c.execute_command("CLUSTER SETSLOT", slot, "NODE", target_id)

    async def until_role(self, node: ClusterNodeProcess, role: str) -> None:
        """Until ``node`` is a primary ("master") or a replica in sync with its primary ("slave")."""
        async def info() -> dict[str, str]:
            try:
                async with node.client() as c:
                    return await c.info("replication")
            except (OSError, aioredis.RedisError):
                return {}
        await until(info, lambda i: i.get("role") == role and (role == "master" or i.get("master_link_status") == "up"),
                    what=f"{node.port} as {role}")

    async def flush(self) -> None:
        for node in await self.primaries():
            async with node.client() as c:
                await c.flushall()

    def stop(self) -> None:
        for node in self.nodes:
            node.process.kill()
        shutil.rmtree(self.work, ignore_errors=True)


def until_up(node: ClusterNodeProcess) -> None:
    for _ in range(int(WAIT * 10)):
        if node.process.proc.poll() is not None:
            raise RuntimeError(f"redis-server exited: {node.process.output()}")
        try:
            with socket.create_connection(("127.0.0.1", node.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"redis-server on {node.port} did not start")
