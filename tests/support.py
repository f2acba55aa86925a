"""Shared test helpers: configs, a real Redis, real servers and real Socket.IO clients."""
from __future__ import annotations

import asyncio
import inspect
import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from overlay.config import Config, parse_config

ROOT = Path(__file__).resolve().parent.parent
OVERLAY_KEY = "test-overlay-key"
MOD_TOKEN = "test-moderator-token"
AUTH = {"Authorization": f"Bearer {MOD_TOKEN}"}
IN_CI = os.environ.get("CI") == "true"
# How long a test waits for something it expects (an event, a process, a page). A passing test
# never waits it out, so it is generous: CI may run several times slower than a laptop, with a
# core busy. No test measures speed: bench/ does.
WAIT = 60.0


async def until(read: Any, pred: Any = bool, *, what: str = "condition", timeout: float = WAIT) -> Any:
    """Poll ``read()`` (a plain or async function) until ``pred`` holds for its value; that value.

    For states no event announces (a process list, a counter, a status page). Fails after
    ``timeout``, which a passing test never reaches.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if inspect.isawaitable(value):
            value = await value
        if pred(value):
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}; last value {value!r}"
        await asyncio.sleep(0.05)


def missing(what: str) -> None:
    """A missing service fails under CI=true, and skips on a developer's machine."""
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true")
    pytest.skip(f"{what} not available")


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def channel_dict(**over: Any) -> dict[str, Any]:
    ch: dict[str, Any] = {
        "id": "demo", "name": "Demo streamer", "currency": "EUR", "locale": "fr_FR",
        "overlay_key": OVERLAY_KEY, "moderator_tokens": [MOD_TOKEN],
        "fx": {"USD": "0.92", "GBP": "1.17"},
        "campaign": {"title": "Les Restos du Cœur", "goal": "10000.00"},
        "match": {"sponsor": "TikTok", "multiplier": "2", "cap": "5000.00"},
        "alerts": {"min_amount": "1.00", "duration_ms": 1000, "gap_ms": 100},
    }
    ch.update(over)
    return ch


def make_config(data_dir: Path, redis_url: str | None = None, port: int = 8080, **channel: Any) -> Config:
    """``teams=[...]`` goes to the top level (API.md §7), ``server={...}`` to the server section;
    the rest overrides the demo channel."""
    teams = channel.pop("teams", [])
    server = channel.pop("server", {})
    return parse_config({
        "server": {"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}", **server},
        "storage": {"redis_url": redis_url, "data_dir": str(data_dir)},
        "channels": [channel_dict(**channel)],
        "teams": teams,
    }, env={})


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            missing("redis-server")
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            with closing(socket.socket()) as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=WAIT)
            self.proc = None

    def flush(self) -> None:
        import redis
        r = redis.Redis.from_url(self.url)
        r.flushall()
        r.close()


class Listener:
    """A real Socket.IO client that records every event it receives, in order."""

    EVENTS = ("state", "donation", "progress", "match", "alert", "queue", "settings", "live", "incentive", "team",
              "alert_timing", "alert_variations", "reload", "timer")

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self._arrived = asyncio.Event()
        for name in self.EVENTS:
            self.client.on(name, self._recorder(name), namespace="*")

    def _recorder(self, name: str) -> Any:
        async def record(namespace: str, data: Any) -> None:
            self.events.append((name, data))
            self._arrived.set()
        return record

    async def connect(self, base_url: str, namespace: str = "/overlay", **auth: Any) -> "Listener":
        await self.client.connect(base_url, namespaces=[namespace], auth=auth, transports=["websocket"],
                                  wait_timeout=WAIT)
        return self

    async def wait_for(self, name: str, pred: Any = lambda d: True, timeout: float = WAIT) -> Any:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for ev, data in self.events[seen:]:
                if ev == name and pred(data):
                    return data
            seen = len(self.events)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {name!r} event within {timeout}s; got {[e for e, _ in self.events]}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                pass

    def of(self, name: str) -> list[Any]:
        return [d for e, d in self.events if e == name]

    async def close(self) -> None:
        await self.client.disconnect()


class ServerProcess:
    """``python server.py`` in a subprocess, as a streamer runs it."""

    def __init__(self, config_path: Path, port: int, *extra: str, env: dict[str, str] | None = None):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.args = [sys.executable, str(ROOT / "server.py"), "--config", str(config_path), "--port", str(port), *extra]
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        # A file, not a pipe: nobody reads a pipe while the server runs, and a full one blocks it.
        self.log_path = Path(config_path).with_name(f"server-{port}.log")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def start(self, timeout: float = WAIT) -> "ServerProcess":
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited: {self.output()}")
                try:
                    async with http.get(self.url + "/healthz") as r:
                        if r.status == 200:
                            return self
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("server did not become healthy")

    def signal(self, sig: int) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=WAIT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=WAIT)
