"""The production topology on one machine: Redis primary + replicas, three Sentinels,
overlay servers on loopback aliases (127.0.0.2, .3, ...), HAProxy in front — started from
the files in deploy/, as a streamer's tech person would run them."""
from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from tests.support import ROOT, WAIT, ServerProcess, channel_dict, free_port, missing, until

DEPLOY = ROOT / "deploy"
SERVICE = "overlay"


def binary(name: str) -> str:
    found = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)),
                                       None)
    if found is None:
        missing(name)
    assert found is not None
    return found


class Process:
    """A child process whose output goes to a file (a pipe nobody reads would block it)."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None):
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=WAIT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class RedisNode:
    def __init__(self, work: Path, name: str, primary: "RedisNode | None" = None):
        self.port, self.name = free_port(), name
        # a file of its own: a replica's full sync writes the primary's snapshot to disk and loads it
        # back, and two nodes syncing at once in one directory would load each other's
        args = [binary("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(work), "--dbfilename", f"dump-{self.port}.rdb"]
        if primary is not None:
            args += ["--replicaof", "127.0.0.1", str(primary.port)]
        self.args, self.log = args, work / f"{name}.log"
        self.process = Process(args, self.log)
        self.client = aioredis.Redis(port=self.port, decode_responses=True, socket_timeout=2)

    def restart(self) -> None:
        """Start again on the same port, empty (no persistence), as it was configured."""
        self.process = Process(self.args, self.log)

    async def role(self) -> dict[str, str]:
        try:
            return await self.client.info("replication")
        except (OSError, aioredis.RedisError):
            return {}


def sentinel_conf(port: int, primary_port: int, work: Path, down_after_ms: int) -> str:
    """deploy/sentinel.conf with this machine's addresses, ports and a quicker down-after."""
    text = (DEPLOY / "sentinel.conf").read_text()
    replacements = {r"^port .*": f"port {port}", r"^bind .*": "bind 127.0.0.1", r"^dir .*": f"dir {work}",
                    rf"^sentinel monitor {SERVICE} \S+ \d+": f"sentinel monitor {SERVICE} 127.0.0.1 {primary_port}",
                    rf"^sentinel down-after-milliseconds {SERVICE} .*":
                        f"sentinel down-after-milliseconds {SERVICE} {down_after_ms}"}
    for pattern, value in replacements.items():
        text, count = re.subn(pattern, value, text, flags=re.M)
        assert count == 1, f"deploy/sentinel.conf has no line matching {pattern}"
    return text


class Sentinels:
    # Quicker than the shipped 5 s, but not so quick that a busy test machine, slow to answer a
    # PING, makes Sentinel fail over by itself.
    def __init__(self, work: Path, primary: RedisNode, count: int = 3, down_after_ms: int = 2500):
        self.ports = [free_port() for _ in range(count)]
        self.processes = []
        for i, port in enumerate(self.ports):
            conf = work / f"sentinel-{i}.conf"
            conf.write_text(sentinel_conf(port, primary.port, work, down_after_ms))
            self.processes.append(Process([binary("redis-sentinel"), str(conf)], work / f"sentinel-{i}.log"))
        self.clients = [aioredis.Redis(port=p, decode_responses=True, socket_timeout=2) for p in self.ports]

    @property
    def url(self) -> str:
        return "redis+sentinel://" + ",".join(f"127.0.0.1:{p}" for p in self.ports) + f"/{SERVICE}/0"

    async def ready(self, replicas: int) -> None:
        """Each Sentinel knows the replicas and the other Sentinels: a failover can be agreed."""
        async def view() -> list[tuple[int, int]]:
            out = []
            for c in self.clients:
                try:
                    m = await c.sentinel_master(SERVICE)
                    out.append((int(m["num-slaves"]), int(m["num-other-sentinels"])))
                except (OSError, aioredis.RedisError):
                    out.append((-1, -1))
            return out
        await until(view, lambda v: all(s == (replicas, len(self.clients) - 1) for s in v), what="Sentinels ready")

    async def primary_port(self) -> int:
        host, port = await self.clients[0].sentinel_get_master_addr_by_name(SERVICE)
        return int(port)


class HAProxy:
    def __init__(self, work: Path, port: int, servers: list[str]):
        self.port, self.socket = port, work / "haproxy.sock"
        env = {"OVERLAY_LISTEN": f"127.0.0.1:{self.port}", "OVERLAY_HAPROXY_SOCKET": str(self.socket),
               "OVERLAY_CHECK_INTER": "500ms", "OVERLAY_MAXCONN": "1000",
               "OVERLAY_HAPROXY_ERRORS": str(DEPLOY / "haproxy-errors")}
        env.update({f"OVERLAY_APP{i + 1}": s for i, s in enumerate(servers)})
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = Process([binary("haproxy"), "-db", "-f", str(DEPLOY / "haproxy.cfg")], work / "haproxy.log", env)

    async def command(self, line: str) -> str:
        reader, writer = await asyncio.open_unix_connection(str(self.socket))
        writer.write(line.encode() + b"\n")
        await writer.drain()
        data = await reader.read()
        writer.close()
        return data.decode()

    async def servers(self) -> dict[str, dict[str, str]]:
        """Each backend server's row of ``show stat`` (status, scur = open connections, ...)."""
        assert self.process.proc.poll() is None, f"haproxy exited: {self.process.output()}"
        try:
            text = await self.command("show stat")
        except OSError:
            return {}
        rows = csv.DictReader(text.removeprefix("# ").splitlines())
        return {r["svname"]: r for r in rows if r["pxname"] == "overlay_servers" and r["svname"] != "BACKEND"}

    async def all_up(self, names: list[str]) -> None:
        await until(self.servers, lambda s: all(s.get(n, {}).get("status") == "UP" for n in names),
                    what="HAProxy sees every server UP")


def write_config(work: Path, name: str, redis_url: str, port: int, host: str, public_url: str,
                 **storage: Any) -> Path:
    """A config file (JSON is YAML) for one overlay server: the public address is the balancer's."""
    # Short alerts keep the queue moving; the last one (50.00) stays long enough to be seen.
    channel = channel_dict(alerts={"min_amount": "5.00", "duration_ms": 1000, "gap_ms": 0,
                                   "tiers": [{"min_amount": "50.00", "duration_ms": 20000}]})
    config = {"server": {"host": host, "port": port, "public_url": public_url,
                         "trusted_proxies": ["127.0.0.1"]},
              "storage": {"redis_url": redis_url, "data_dir": str(work / name), **storage},
              "channels": [channel]}
    path = work / f"{name}.yaml"
    path.write_text(json.dumps(config))
    return path


async def start_server(work: Path, index: int, redis_url: str, public_url: str, **storage: Any) -> ServerProcess:
    host, port = f"127.0.0.{index + 2}", free_port()
    path = write_config(work, f"app{index + 1}", redis_url, port, host, public_url, **storage)
    server = ServerProcess(path, port, "--host", host)
    server.url = f"http://{host}:{port}"
    return await server.start()


def elapsed(since: float) -> str:
    return f"{time.monotonic() - since:.2f} s"
