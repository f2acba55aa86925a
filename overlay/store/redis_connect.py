"""A Redis client from ``storage.redis_url``: one server, or the primary that Sentinel names.

``redis://`` and ``rediss://`` go to redis-py's ``from_url``. The Sentinel form is

    redis+sentinel://[user:password@]host1:26379[,host2:26379...]/service[/db][?sentinel_password=...]

(python-socketio's order, ``/db/service``, is read too). The client asks the Sentinels
for the current primary each time it opens a connection; when the primary changes, a
call on a connection to the old one fails (the store answers 503), idle connections to
it are dropped, and the next call reaches the new primary: the server follows a
failover by itself. ``password``/``username`` are the data nodes'; ``sentinel_password``
(and ``sentinel_username``) the Sentinels', when they require one.

The Redis Cluster form names seed nodes; the client reads the slot map from them and
follows it (MOVED, a promoted replica) by itself:

    redis+cluster://[user:password@]host1:7000[,host2:7001...]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import redis.asyncio as aioredis
from redis.asyncio import cluster as aiocluster
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import AskError, ClusterError, SlotNotCoveredError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

SENTINEL_SCHEME = "redis+sentinel"
CLUSTER_SCHEME = "redis+cluster"
SENTINEL_OPTIONS = ("sentinel_password", "sentinel_username")
# A Sentinel that does not answer within this is skipped for the next one.
SENTINEL_TIMEOUT_S = 0.5


@dataclass(frozen=True)
class SentinelUrl:
    sentinels: list[tuple[str, int]]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_auth: dict[str, str] = field(default_factory=dict)


def is_sentinel(url: str) -> bool:
    return url.lower().startswith(SENTINEL_SCHEME + "://")


def is_cluster(url: str) -> bool:
    return url.lower().startswith(CLUSTER_SCHEME + "://")


@dataclass(frozen=True)
class ClusterUrl:
    nodes: list[tuple[str, int]]
    username: str | None = None
    password: str | None = None


def parse_cluster_url(url: str) -> ClusterUrl:
    """The seed nodes and credentials of a ``redis+cluster://`` URL; ValueError naming what is wrong."""
    parts = urlsplit(url)
    if parts.scheme.lower() != CLUSTER_SCHEME:
        raise ValueError(f"not a {CLUSTER_SCHEME}:// URL")
    if parts.path.strip("/") or parts.query:
        raise ValueError("a Redis Cluster URL names only its nodes (a cluster has one database, no options)")
    hosts = parts.netloc.rsplit("@", 1)[-1]
    nodes = [_host_port(item, "a Redis Cluster node") for item in hosts.split(",")]
    return ClusterUrl(nodes, _unquoted(parts.username), _unquoted(parts.password))


def cluster_supported() -> str | None:
    """Why this redis-py cannot run the cluster backend (None: it can): it needs sharded
    pub/sub through the async cluster client, which older releases lack."""
    pubsub = getattr(aiocluster, "ClusterPubSub", None)
    missing = [name for name in ("ssubscribe", "sunsubscribe", "get_sharded_message") if not hasattr(pubsub, name)]
    return f"the installed redis-py lacks ClusterPubSub.{missing[0]}: upgrade redis-py" if missing else None


def parse_sentinel_url(url: str) -> SentinelUrl:
    """The parts of a ``redis+sentinel://`` URL; ValueError naming what is wrong."""
    parts = urlsplit(url)
    if parts.scheme.lower() != SENTINEL_SCHEME:
        raise ValueError(f"not a {SENTINEL_SCHEME}:// URL")
    hosts = parts.netloc.rsplit("@", 1)[-1]
    sentinels = [_host_port(item, "a Sentinel address") for item in hosts.split(",")]
    service, db = _service_and_db([p for p in parts.path.split("/") if p])
    query = parse_qs(parts.query)
    unknown = sorted(set(query) - set(SENTINEL_OPTIONS))
    if unknown:
        raise ValueError(f"unknown option {unknown[0]!r} (known: {', '.join(SENTINEL_OPTIONS)})")
    auth = {name.removeprefix("sentinel_"): values[-1] for name, values in query.items()}
    return SentinelUrl(sentinels, service, db, _unquoted(parts.username), _unquoted(parts.password), auth)


def _host_port(item: str, what: str) -> tuple[str, int]:
    host, sep, port = item.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{what} must be host:port, not {item!r}")
    return host.strip("[]"), int(port)


def _service_and_db(segments: list[str]) -> tuple[str, int]:
    if len(segments) == 2 and segments[0].isdigit():  # python-socketio's /db/service
        segments = segments[::-1]
    if not segments or len(segments) > 2:
        raise ValueError("name the Sentinel service after the hosts: /mymaster or /mymaster/0")
    if len(segments) == 2 and not segments[1].isdigit():
        raise ValueError(f"the database after the service must be a number, not {segments[1]!r}")
    return segments[0], int(segments[1]) if len(segments) == 2 else 0


def _unquoted(value: str | None) -> str | None:
    return None if value is None else unquote(value)


def check_redis_url(url: str) -> str:
    """``url`` if it can be used; ValueError otherwise (config validation)."""
    if is_sentinel(url):
        parse_sentinel_url(url)
    elif is_cluster(url):
        parse_cluster_url(url)
        unsupported = cluster_supported()
        if unsupported:
            raise ValueError(unsupported)
    elif urlsplit(url).scheme.lower() not in ("redis", "rediss", "unix"):
        raise ValueError(f"use redis://, rediss://, unix://, {SENTINEL_SCHEME}:// or {CLUSTER_SCHEME}://")
    return url


# What a call fails with while a server is unreachable, or while a cluster fails over (the shard is
# down, its slots are moving): the store answers 503 and the caller may retry.
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError, ClusterError, TryAgainError, AskError,
               SlotNotCoveredError)

MAX_CONNECTIONS = 100  # per process (redis-py's default cap)


def connect(url: str, **options: Any) -> aioredis.Redis | RedisCluster:
    """A client for ``url``; ``options`` (timeouts, retry, decode_responses) apply to data
    connections, whichever server Sentinel names."""
    if is_cluster(url):
        cluster = parse_cluster_url(url)
        # A dead primary's calls fail fast (the store answers 503) while the cluster promotes
        # its replica; the client then refreshes its slot map by itself.
        return RedisCluster(startup_nodes=[ClusterNode(host, port) for host, port in cluster.nodes],
                            username=cluster.username, password=cluster.password,
                            max_connections=MAX_CONNECTIONS, **options)
    if not is_sentinel(url):
        # A burst (hundreds of channels committing, claiming and reloading at once) waits for
        # a free connection instead of failing with "Too many connections"; every call is
        # bounded by the store's own deadline.
        pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=MAX_CONNECTIONS, timeout=None, **options)
        return aioredis.Redis.from_pool(pool)  # the client owns the pool: closing it closes the connections
    parsed = parse_sentinel_url(url)
    sentinel_options = {"socket_timeout": SENTINEL_TIMEOUT_S, "socket_connect_timeout": SENTINEL_TIMEOUT_S,
                        **parsed.sentinel_auth}
    sentinel = Sentinel(parsed.sentinels, sentinel_kwargs=sentinel_options)
    return sentinel.master_for(parsed.service, db=parsed.db, username=parsed.username,
                               password=parsed.password, **options)


class NodeClients:
    """A plain client per cluster primary, for the commands that must run on one connection of
    the node that owns their keys, once, neither redirected nor retried: a commit script and the
    WAIT that counts that connection's writes. The cluster client follows a redirect for the
    script alone (written on the new primary, while the WAIT counted the old one's replicas) and
    after a connection error sends a WAIT to every primary (replies summed): either would
    confirm a commit that no replica holds."""

    def __init__(self, cluster: RedisCluster, url: str, **options: Any):
        self.cluster, self._options = cluster, options
        parsed = parse_cluster_url(url)
        self._auth = {"username": parsed.username, "password": parsed.password}
        self._clients: dict[str, aioredis.Redis] = {}

    def of_key(self, key: str) -> tuple[str, aioredis.Redis]:
        """The name and client of the primary that serves ``key``'s slot, as the cluster client
        knows it now (it learns of a move from its own calls' errors)."""
        node = self.cluster.get_node_from_key(key)
        client = self._clients.get(node.name)
        if client is None:
            pool = aioredis.BlockingConnectionPool(host=node.host, port=node.port, max_connections=MAX_CONNECTIONS,
                                                   timeout=None, **self._auth, **self._options)
            client = self._clients[node.name] = aioredis.Redis.from_pool(pool)
        return node.name, client

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()


def shown(url: str) -> str:
    """``url`` without its credentials, for logs."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1], query="").geturl()
