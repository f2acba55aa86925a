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
"""
from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from overlay.store.base import STORE_DEADLINE_S, StoreUnavailable

# WAIT gives up after this; together with the commit it stays inside the store's deadline.
WAIT_TIMEOUT_MS = int(STORE_DEADLINE_S * 1000) * 2 // 3


async def run_many_replicated(client: aioredis.Redis, script: AsyncScript,
                              calls: list[tuple[list[str], list[Any]]], min_replicas: int) -> list[Any]:
    """``script(keys, args)`` for each call, in one round trip (one pipeline, not a
    transaction: each script is atomic on its own); one outcome per call, a failed script's
    exception in its place. With ``min_replicas`` > 0 one WAIT covers them all."""
    # EVALSHA by hand: a pipeline given the script itself asks SCRIPT EXISTS first, a
    # second round trip on every commit. A Redis that lost the script runs none of it
    # (NOSCRIPT): load it and run those calls again.
    async with client.pipeline(transaction=False) as pipe:
        for keys, args in calls:
            pipe.evalsha(script.sha, len(keys), *keys, *args)
        if min_replicas > 0:
            pipe.wait(min_replicas, WAIT_TIMEOUT_MS)
        outcomes = await pipe.execute(raise_on_error=False)
    acknowledged = outcomes.pop() if min_replicas > 0 else None
    missing = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, NoScriptError)]
    if missing:
        script.sha = await client.script_load(script.script)
        again = await run_many_replicated(client, script, [calls[i] for i in missing], min_replicas)
        for i, outcome in zip(missing, again):
            outcomes[i] = outcome
    elif min_replicas > 0 and (isinstance(acknowledged, BaseException) or acknowledged < min_replicas):
        raise StoreUnavailable(f"only {acknowledged} of {min_replicas} Redis replicas confirmed the write "
                               f"within {WAIT_TIMEOUT_MS} ms")
    return outcomes


async def confirm_replicated(client: aioredis.Redis, barrier_key: str, min_replicas: int) -> None:
    """Return once ``min_replicas`` replicas have everything written so far (else
    StoreUnavailable): replication is in order, so a replica that has this later write
    has every earlier one, whichever connection made it."""
    if min_replicas <= 0:
        return
    async with client.pipeline(transaction=False) as pipe:
        pipe.set(barrier_key, "1", px=60_000)
        pipe.wait(min_replicas, WAIT_TIMEOUT_MS)
        _, acknowledged = await pipe.execute()
    if acknowledged < min_replicas:
        raise StoreUnavailable(f"only {acknowledged} of {min_replicas} Redis replicas confirmed the stored "
                               f"donation within {WAIT_TIMEOUT_MS} ms")
