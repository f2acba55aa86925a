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
primary's share ends with its own WAIT on that connection (``_wait_on``).
"""
from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from overlay.store.base import STORE_DEADLINE_S, StoreUnavailable
from overlay.store.redis_connect import UNAVAILABLE
from overlay.store.redis_wire import send_many

# WAIT gives up after this; together with the commit it stays inside the store's deadline.
WAIT_TIMEOUT_MS = int(STORE_DEADLINE_S * 1000) * 2 // 3


async def run_many_replicated(client: aioredis.Redis | RedisCluster, script: AsyncScript,
                              calls: list[tuple[list[str], list[Any]]], min_replicas: int) -> list[Any]:
    """``script(keys, args)`` for each call, in one round trip (one pipeline, not a
    transaction: each script is atomic on its own); one outcome per call, a failed script's
    exception in its place. With ``min_replicas`` > 0 one WAIT covers them all (one per shard)."""
    return await run_scripts(client, [(script, keys, args) for keys, args in calls], min_replicas)


async def run_scripts(client: aioredis.Redis | RedisCluster, calls: list[tuple[AsyncScript, list[str], list[Any]]],
                      min_replicas: int = 0) -> list[Any]:
    """Each ``(script, keys, args)`` as ``run_many_replicated`` runs them."""
    # EVALSHA by hand: a pipeline given the script itself asks SCRIPT EXISTS first, a
    # second round trip on every commit. A Redis that lost the script (restarted, or a
    # promoted replica: scripts are not replicated) runs none of it (NOSCRIPT): load it
    # and run those calls again.
    if isinstance(client, RedisCluster):
        async with client.pipeline(transaction=False) as pipe:
            for script, keys, args in calls:
                pipe.evalsha(script.sha, len(keys), *keys, *args)
            covered = _wait_on(client, pipe, [keys[0] for _, keys, _ in calls], min_replicas)
            outcomes = await pipe.execute(raise_on_error=False)
    else:  # packed here: the bulk of a commit's cost was redis-py packing its many small arguments
        commands = [("EVALSHA", script.sha, len(keys), *keys, *args) for script, keys, args in calls]
        covered = [0] * len(calls) if min_replicas > 0 else []
        if covered:
            commands.append(("WAIT", min_replicas, WAIT_TIMEOUT_MS))
        outcomes = await send_many(client, commands)
    acknowledged = outcomes[len(calls):]
    # A shard that failed (down, failing over), or whose replicas did not confirm, fails its own
    # calls only: 503 for those.
    outcomes = [StoreUnavailable(f"Redis: {o}") if isinstance(o, UNAVAILABLE) else o for o in outcomes[:len(calls)]]
    for i, wait in enumerate(covered):
        short = _short(acknowledged[wait], min_replicas)
        if short is not None and not isinstance(outcomes[i], NoScriptError):
            outcomes[i] = short
    missing = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, NoScriptError)]
    if missing:
        for script in {id(calls[i][0]): calls[i][0] for i in missing}.values():
            script.sha = await client.script_load(script.script)
        again = await run_scripts(client, [calls[i] for i in missing], min_replicas)
        for i, outcome in zip(missing, again):
            outcomes[i] = outcome
    return outcomes


def _short(acknowledged: Any, min_replicas: int) -> StoreUnavailable | None:
    if isinstance(acknowledged, BaseException):
        return StoreUnavailable(f"Redis: WAIT for the replicas failed ({acknowledged})")
    if acknowledged < min_replicas:
        return StoreUnavailable(f"only {acknowledged} of {min_replicas} Redis replicas confirmed the write "
                                f"within {WAIT_TIMEOUT_MS} ms")
    return None


def _wait_on(client: aioredis.Redis | RedisCluster, pipe: Any, keys: list[str], min_replicas: int) -> list[int]:
    """Queue on ``pipe`` the WAITs that cover the writes to ``keys``: one, or on a cluster one per
    primary written to, sent to that primary (a WAIT counts its own connection's writes).
    For each key, the index of its WAIT among them (none without ``min_replicas``)."""
    if min_replicas <= 0 or not keys:
        return []
    if not isinstance(client, RedisCluster):
        pipe.wait(min_replicas, WAIT_TIMEOUT_MS)
        return [0] * len(keys)
    nodes: dict[str, tuple[int, Any]] = {}
    covered = []
    for key in keys:
        node = client.get_node_from_key(key)
        covered.append(nodes.setdefault(node.name, (len(nodes), node))[0])
    for _, node in nodes.values():
        pipe.execute_command("WAIT", min_replicas, WAIT_TIMEOUT_MS, target_nodes=node)
    return covered


async def confirm_replicated(client: aioredis.Redis | RedisCluster, barrier_key: str, min_replicas: int) -> None:
    """Return once ``min_replicas`` replicas have everything written so far (else
    StoreUnavailable): replication is in order, so a replica that has this later write
    has every earlier one, whichever connection made it."""
    if min_replicas <= 0:
        return
    async with client.pipeline(transaction=False) as pipe:
        pipe.set(barrier_key, "1", px=60_000)
        _wait_on(client, pipe, [barrier_key], min_replicas)
        _, acknowledged = await pipe.execute()
    if acknowledged < min_replicas:
        raise StoreUnavailable(f"only {acknowledged} of {min_replicas} Redis replicas confirmed the stored "
                               f"donation within {WAIT_TIMEOUT_MS} ms")
