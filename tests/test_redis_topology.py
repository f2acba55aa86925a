"""storage.redis_url's Sentinel form and storage.redis_min_replicas (Redis WAIT).

The whole topology (HAProxy, three servers, Sentinels, failovers) is tests/topology/."""
from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from overlay.app import create_app
from overlay.config import ConfigError, parse_config
from overlay.store.redis_connect import parse_cluster_url, parse_sentinel_url, shown
from tests.support import AUTH, ROOT, WAIT, channel_dict, make_config, until
from tests.topology.cluster import RedisNode

DONATE = "/api/v1/channels/demo/donations"


@pytest.mark.parametrize("url", [
    "redis+sentinel://10.0.0.1:26379,10.0.0.2:26380/overlay/3",
    "redis+sentinel://10.0.0.1:26379,10.0.0.2:26380/3/overlay",  # python-socketio's order
])
def test_sentinel_url_names_the_sentinels_the_service_and_the_database(url: str) -> None:
    parsed = parse_sentinel_url(url)
    assert parsed.sentinels == [("10.0.0.1", 26379), ("10.0.0.2", 26380)]
    assert (parsed.service, parsed.db, parsed.password, parsed.sentinel_auth) == ("overlay", 3, None, {})


def test_sentinel_url_credentials_for_redis_and_for_the_sentinels() -> None:
    url = "redis+sentinel://app:p%40ss@h1:26379,h2:26379/overlay?sentinel_password=s3cret"
    parsed = parse_sentinel_url(url)
    assert (parsed.username, parsed.password, parsed.db) == ("app", "p@ss", 0)
    assert parsed.sentinel_auth == {"password": "s3cret"}
    assert shown(url) == "redis+sentinel://h1:26379,h2:26379/overlay"  # what logs may show


def test_cluster_url_seed_nodes_and_credentials() -> None:
    parsed = parse_cluster_url("redis+cluster://app:p%40ss@10.0.0.1:7000,[::1]:7001/")
    assert (parsed.nodes, parsed.username, parsed.password) == ([("10.0.0.1", 7000), ("::1", 7001)], "app", "p@ss")
    assert shown("redis+cluster://app:p%40ss@h1:7000,h2:7000") == "redis+cluster://h1:7000,h2:7000"


@pytest.mark.parametrize("url,problem", [
    ("redis+sentinel://h1/overlay", "a Sentinel address must be host:port, not 'h1'"),
    ("redis+sentinel://h1:26379", "name the Sentinel service after the hosts"),
    ("redis+sentinel://h1:26379/overlay/zero", "the database after the service must be a number"),
    ("redis+sentinel://h1:26379/overlay?password=x", "unknown option 'password'"),
    ("http://h1:6379/0", "use redis://, rediss://, unix://, redis+sentinel:// or redis+cluster://"),
    ("redis+cluster://h1", "a Redis Cluster node must be host:port, not 'h1'"),
    ("redis+cluster://h1:7000,h2:x", "a Redis Cluster node must be host:port, not 'h2:x'"),
    ("redis+cluster://h1:7000/0", "a Redis Cluster URL names only its nodes"),
])
def test_a_bad_redis_url_names_the_key(url: str, problem: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config({"storage": {"redis_url": url}, "channels": [channel_dict()]}, env={})
    assert [p for p in exc.value.problems if p.startswith(f"storage.redis_url: {problem}")], exc.value.problems


def test_min_replicas_is_a_small_count() -> None:
    with pytest.raises(ConfigError, match=r"storage.redis_min_replicas: must be >= 0"):
        parse_config({"storage": {"redis_min_replicas": -1}, "channels": [channel_dict()]}, env={})


def test_a_bad_redis_flag_exits_2() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "server.py"), "--config", str(ROOT / "config.yaml"),
                           "--redis", "redis+sentinel://nohost/overlay"], capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 2
    assert "--redis / OVERLAY_REDIS_URL: a Sentinel address must be host:port" in proc.stderr


@pytest.fixture
async def primary(tmp_path: Path) -> AsyncIterator[RedisNode]:
    node = RedisNode(tmp_path, "primary")
    await until(node.role, lambda r: r.get("role") == "master", what="primary up")
    yield node
    node.process.kill(signal.SIGTERM)
    await node.client.aclose()


async def _replica(tmp_path: Path, primary: RedisNode, name: str) -> RedisNode:
    node = RedisNode(tmp_path, name, primary)
    await until(node.role, lambda r: r.get("master_link_status") == "up", what="replica in sync")
    return node


async def _server(aiohttp_server: Any, tmp_path: Path, primary: RedisNode, min_replicas: int) -> str:
    config = make_config(tmp_path / "data", f"redis://127.0.0.1:{primary.port}/0")
    storage = config.storage.model_copy(update={"redis_min_replicas": min_replicas})
    server = await aiohttp_server(create_app(config.model_copy(update={"storage": storage})), host="127.0.0.1")
    return str(server.make_url("")).rstrip("/")


async def _post(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.post(url + DONATE, json=body, headers=AUTH) as r:
        return r.status, await r.json()


async def test_a_201_means_a_replica_has_the_donation(aiohttp_server: Any, tmp_path: Path,
                                                      primary: RedisNode) -> None:
    replica = await _replica(tmp_path, primary, "replica")
    try:
        url = await _server(aiohttp_server, tmp_path, primary, min_replicas=1)
        status, donation = await _post(url, {"amount": "12.50", "external_id": "w-1", "source": "api"})
        assert status == 201, donation
        # Read from the replica right after the answer: WAIT made the 201 wait for it.
        assert await replica.client.hget("overlay:demo:don", donation["id"])
    finally:
        replica.process.kill(signal.SIGTERM)
        await replica.client.aclose()


async def test_without_enough_replicas_it_is_503_and_the_retry_is_exactly_once(
        aiohttp_server: Any, tmp_path: Path, primary: RedisNode) -> None:
    url = await _server(aiohttp_server, tmp_path, primary, min_replicas=1)
    body = {"amount": "7.00", "external_id": "w-2", "source": "api"}
    status, error = await _post(url, body)  # no replica at all: WAIT confirms nobody
    assert (status, error["error"]["code"]) == (503, "storage_unavailable")
    # Written on the primary, but a retry's 200 would promise what a 201 does: not yet.
    status, error = await _post(url, body)
    assert (status, error["error"]["code"]) == (503, "storage_unavailable")
    replica = await _replica(tmp_path, primary, "late-replica")
    try:
        status, donation = await _post(url, body)  # the sender retries, same external_id
        # The first attempt was written on the primary, unconfirmed: the retry finds it.
        assert status == 200, donation
        async with aiohttp.ClientSession() as http, http.get(url + DONATE, headers=AUTH) as r:
            stored = [d for d in (await r.json())["donations"] if d["external_id"] == "w-2"]
        assert [d["id"] for d in stored] == [donation["id"]]
    finally:
        replica.process.kill(signal.SIGTERM)
        await replica.client.aclose()
