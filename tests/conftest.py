from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from overlay.app import create_app
from overlay.config import Config
from tests.support import AUTH, MOD_TOKEN, OVERLAY_KEY, Listener, RedisServer, make_config


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of our own on a free port (never the machine's 6379)."""
    server = RedisServer()
    external = os.environ.get("OVERLAY_TEST_REDIS_URL")
    if external:
        server.url = external
        server.port = int(external.rsplit(":", 1)[1].split("/")[0])
        yield server
        return
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    redis_server.flush()
    return redis_server.url


@pytest.fixture(params=["embedded", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@dataclass
class Running:
    url: str
    config: Config
    http: aiohttp.ClientSession
    listeners: list[Listener]

    async def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        async with self.http.post(self.url + path, json=json, headers=AUTH if headers is None else headers, **kw) as r:
            return r.status, await _body(r)

    async def request(self, method: str, path: str, **kw: Any) -> Any:
        kw.setdefault("headers", AUTH)
        async with self.http.request(method, self.url + path, **kw) as r:
            return r.status, await _body(r)

    async def donate(self, **body: Any) -> dict[str, Any]:
        status, data = await self.post("/api/v1/channels/demo/donations", body)
        assert status in (200, 201), (status, data)
        return data

    async def listen(self, namespace: str = "/overlay", **auth: Any) -> Listener:
        if not auth:
            auth = {"channel": "demo", "key": OVERLAY_KEY} if namespace == "/overlay" else \
                {"channel": "demo", "token": MOD_TOKEN}
        listener = await Listener().connect(self.url, namespace, **auth)
        self.listeners.append(listener)
        return listener


async def _body(r: aiohttp.ClientResponse) -> Any:
    if r.content_type == "application/json":
        return await r.json()
    return await r.text()


@pytest.fixture
async def make_server(aiohttp_server: Any, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """Start the real app on a loopback port: ``await make_server(backend, **channel overrides)``."""
    sessions: list[Running] = []

    async def start(backend: str = "embedded", data_dir: Path | None = None, **channel: Any) -> Running:
        redis_url = request.getfixturevalue("redis_url") if backend == "redis" else None
        config = make_config(data_dir or tmp_path / "data", redis_url, **channel)
        server = await aiohttp_server(create_app(config), host="127.0.0.1")
        running = Running(str(server.make_url("")).rstrip("/"), config, aiohttp.ClientSession(), [])
        sessions.append(running)
        return running

    yield start
    for s in sessions:
        for listener in s.listeners:
            await listener.close()
        await s.http.close()


@pytest.fixture
async def server(make_server: Any, backend: str) -> Running:
    return await make_server(backend)
