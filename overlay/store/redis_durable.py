"""``storage.redis_min_replicas``: a commit is acknowledged only once replicas hold it.

Redis replicates asynchronously: a primary lost right after a commit may take the commit
with it, and Sentinel promotes a replica that never saw it. With ``min_replicas`` = n the
commit script and a ``WAIT n timeout`` go down one connection (WAIT counts the replicas
that have this connection's writes), so the 201 is sent only once n replicas have the
donation. If fewer confirm in time the caller gets 503: the donation is on the primary,
and may or may not survive it; a sender that retries with the same ``external_id`` gets
it exactly once (200 with the stored donation, or 201 if it was lost) — and that 200 too
waits for the replicas (``confirm_replicated``): the record it found may be the unconfirmed
write of the first attempt.

On a Redis Cluster each shard replicates its own writes: the scripts of a group commit go
to the primaries of their channels' slots, each primary's on one connection, and each
primary's share ends with its own WAIT on that connection (``NodeClients``: sent once, never
redirected, so that the WAIT counts the connection that wrote).
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from overlay.store.base import STORE_DEADLINE_S, StoreUnavailable
from overlay.store.redis_connect import UNAVAILABLE, NodeClients
from overlay.store.redis_wire import send_many

Calls = list[tuple[AsyncScript, list[str], list[Any]]]  # (script, keys, args) each
# WAIT gives up after this; together with the commit it stays inside the store's deadline.
WAIT_TIMEOUT_MS = int(STORE_DEADLINE_S * 1000) * 2 // 3


async def run_many_replicated(client: aioredis.Redis | NodeClients, script: AsyncScript,
                              calls: list[tuple[list[str], list[Any]]], min_replicas: int) -> list[Any]:
    """``script(keys, args)`` for each call, in one round trip (one pipeline, not a
    transaction: each script is atomic on its own); one outcome per call, a failed script's
    exception in its place. With ``min_replicas`` > 0 one WAIT covers them all (one per shard)."""
    return await run_scripts(client, [(script, keys, args) for keys, args in calls], min_replicas)


async def run_scripts(client: aioredis.Redis | RedisCluster | NodeClients,
                      calls: Calls, min_replicas: int = 0) -> list[Any]:
    """Each ``(script, keys, args)`` as ``run_many_replicated`` runs them. On a cluster the
    calls that wait for replicas go through ``NodeClients``: each primary's calls and its WAIT
    on one of its connections, sent once."""
    if isinstance(client, RedisCluster):
        if min_replicas > 0:
            raise ValueError("a cluster's replicated calls go through NodeClients")
        return await _run_pipelined(client, calls)
    if isinstance(client, NodeClients):
        return await _run_per_primary(client, calls, min_replicas)
    return await _run_on_one(client, calls, min_replicas)


def unavailable(exc: BaseException) -> StoreUnavailable:
    """A Redis that is down, failing over or not answering: the store's 503."""
    return StoreUnavailable(f"Redis: {exc}")


def _unavailable_in_place(replies: list[Any]) -> list[Any]:
    return [unavailable(r) if isinstance(r, UNAVAILABLE) else r for r in replies]


async def _run_per_primary(clients: NodeClients, calls: Calls, min_replicas: int) -> list[Any]:
    """Each primary's share of the calls on one of its connections, all primaries at once."""
    shares: dict[str, tuple[aioredis.Redis, list[int]]] = {}
    outcomes: list[Any] = [None] * len(calls)
    for i, (_, keys, _) in enumerate(calls):
        try:
            name, node = clients.of_key(keys[0])
        except UNAVAILABLE as exc:  # the slot has no known primary (failing over)
            outcomes[i] = unavailable(exc)
            continue
        shares.setdefault(name, (node, []))[1].append(i)
    done = await asyncio.gather(*(_run_on_one(node, [calls[i] for i in share], min_replicas)
                                  for node, share in shares.values()))
    for (_, share), replies in zip(shares.values(), done):
        for i, outcome in zip(share, replies):
            outcomes[i] = outcome
    return outcomes


async def _run_on_one(client: aioredis.Redis, calls: Calls, min_replicas: int) -> list[Any]:
    """The calls, then WAIT, on one connection of one Redis."""
    # EVALSHA by hand: a pipeline given the script itself asks SCRIPT EXISTS first, a
    # second round trip on every commit. A Redis that lost the script (restarted, or a
    # promoted replica: scripts are not replicated) runs none of it (NOSCRIPT): load it
    # and run those calls again. Packed here: the bulk of a commit's cost was redis-py packing
    # its many small arguments.
    commands: list[tuple[Any, ...]] = [("EVALSHA", script.sha, len(keys), *keys, *args) for script, keys, args in calls]
    if min_replicas > 0:
        commands.append(("WAIT", min_replicas, WAIT_TIMEOUT_MS))
    try:
        replies = await send_many(client, commands)
    except UNAVAILABLE as exc:  # the connection failed: whatever it carried is in doubt
        return [unavailable(exc)] * len(calls)
    # A failed call (its shard down, failing over), or calls whose replicas did not confirm: 503.
    outcomes = _unavailable_in_place(replies[:len(calls)])
    short = _short(replies[-1], min_replicas) if min_replicas > 0 else None
    if short is not None:
        outcomes = [o if isinstance(o, NoScriptError) else short for o in outcomes]
    return await _again_if_unknown(client, calls, outcomes, lambda again: _run_on_one(client, again, min_replicas))


async def _run_pipelined(client: RedisCluster, calls: Calls) -> list[Any]:
    """Calls that wait for no replica, on a cluster: one pipeline, each to its slot's primary."""
    async with client.pipeline(transaction=False) as pipe:
        for script, keys, args in calls:
            pipe.evalsha(script.sha, len(keys), *keys, *args)
        replies = await pipe.execute(raise_on_error=False)
    outcomes = _unavailable_in_place(replies)
    return await _again_if_unknown(client, calls, outcomes, lambda again: _run_pipelined(client, again))


async def _again_if_unknown(client: aioredis.Redis | RedisCluster, calls: Calls,
                            outcomes: list[Any], run: Callable[[Calls], Awaitable[list[Any]]]) -> list[Any]:
    """Load the scripts a Redis did not know (NOSCRIPT: it ran none of them) and run those calls again."""
    missing = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, NoScriptError)]
    if missing:
        for script in {id(calls[i][0]): calls[i][0] for i in missing}.values():
            script.sha = await client.script_load(script.script)
        for i, outcome in zip(missing, await run([calls[i] for i in missing])):
            outcomes[i] = outcome
    return outcomes


def _short(acknowledged: Any, min_replicas: int) -> StoreUnavailable | None:
    if isinstance(acknowledged, BaseException):
        return StoreUnavailable(f"Redis: WAIT for the replicas failed ({acknowledged})")
    if acknowledged < min_replicas:
        return StoreUnavailable(f"only {acknowledged} of {min_replicas} Redis replicas confirmed the write "
                                f"within {WAIT_TIMEOUT_MS} ms")
    return None


async def confirm_replicated(client: aioredis.Redis | NodeClients, barrier_key: str, min_replicas: int) -> None:
    """Return once ``min_replicas`` replicas have everything written so far (else
    StoreUnavailable): replication is in order, so a replica that has this later write
    has every earlier one, whichever connection made it."""
    if min_replicas <= 0:
        return
    if isinstance(client, NodeClients):
        _, client = client.of_key(barrier_key)
    replies = await send_many(client, [("SET", barrier_key, "1", "PX", 60_000),
                                       ("WAIT", min_replicas, WAIT_TIMEOUT_MS)])
    for reply in replies:
        if isinstance(reply, Exception):  # (MOVED: the slot is failing over)
            raise reply
    acknowledged = replies[1]
    if acknowledged < min_replicas:
        raise StoreUnavailable(f"only {acknowledged} of {min_replicas} Redis replicas confirmed the stored "
                               f"donation within {WAIT_TIMEOUT_MS} ms")
