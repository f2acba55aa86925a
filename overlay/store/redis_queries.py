"""The Redis backend's reads: donations, idempotency keys, leaderboards, the event log and
many channels' totals (a mixin of ``overlay.store.redis.RedisStore``)."""
from __future__ import annotations

import json
from typing import Any

from overlay.domain.state import Event
from overlay.domain.teams import TOTALS
from overlay.store.redis_durable import confirm_replicated
from overlay.store.redis_keys import DON, DONSEQ, EXT, LB, LBNAME, LOG, SEQ, STATE

TOTALS_PAGE = 1000  # state keys one MGET of channel_totals reads


class RedisQueries:
    redis: Any
    primaries: Any  # RedisStore's: where a write and the WAIT that confirms it go
    names: Any  # RedisStore's RedisKeys
    cluster: bool
    min_replicas: int
    _lookups: Any  # RedisStore's GroupCommit of idempotency-key lookups
    _call: Any
    keys: Any

    async def channel_totals(self, channels: list[str]) -> dict[str, dict[str, int]]:
        keys = [self.keys(channel)[STATE] for channel in channels]
        async with self.redis.pipeline(transaction=False) as pipe:
            if self.cluster:  # keys in many slots: one GET each (one pipeline per shard)
                for key in keys:
                    pipe.get(key)
            else:  # pages of keys: one command does not hold Redis for long
                for start in range(0, len(keys), TOTALS_PAGE):
                    pipe.mget(keys[start:start + TOTALS_PAGE])
            replies = await self._call(pipe.execute())
        blobs = replies if self.cluster else [blob for page in replies for blob in page]
        found: dict[str, dict[str, int]] = {}
        for channel, blob in zip(channels, blobs):
            if blob:
                totals = json.loads(blob)["totals"]
                found[channel] = {k: totals[k] for k in TOTALS}
        return found

    async def get_donation(self, channel: str, donation_id: str) -> dict[str, Any] | None:
        raw = await self._call(self.redis.hget(self.keys(channel)[DON], donation_id))
        return json.loads(raw) if raw else None

    async def find_external(self, channel: str, source: str, external_id: str) -> dict[str, Any] | None:
        donation_id = await self._call(self.redis.hget(self.keys(channel)[EXT], f"{source}\0{external_id}"))
        await self._replicated(channel, [donation_id])
        return await self.get_donation(channel, donation_id) if donation_id else None

    async def find_externals(self, channel: str,
                             keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any] | None]:
        # with the other channels' lookups of the moment: one round trip (overlay/store/group_commit.py)
        ids = await self._lookups.submit((self.keys(channel)[EXT], [f"{s}\0{e}" for s, e in keys]))
        await self._replicated(channel, ids)
        records = {r["id"]: r for r in await self._records(channel, [i for i in ids if i])}
        return {key: records.get(i) if i else None for key, i in zip(keys, ids)}

    async def _hmget_many(self, calls: list[tuple[str, list[str]]]) -> list[Any]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key, fields in calls:
                pipe.hmget(key, fields)
            return await pipe.execute(raise_on_error=False)

    async def _replicated(self, channel: str, found: list[str | None]) -> None:
        # A retry's 200 promises what a 201 does: the donation it found is on the replicas.
        if self.min_replicas and any(found):
            barrier = self.names.channel(channel, "replicated")
            await self._call(confirm_replicated(self.primaries, barrier, self.min_replicas))

    async def _records(self, channel: str, ids: list[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        raws = await self._call(self.redis.hmget(self.keys(channel)[DON], ids))
        return [json.loads(r) for r in raws if r]

    async def list_donations(self, channel: str, *, after_seq: int | None = None,
                             limit: int = 50) -> list[dict[str, Any]]:
        k = self.keys(channel)[DONSEQ]
        if after_seq is None:
            ids = await self._call(self.redis.zrevrange(k, 0, limit - 1))
        else:
            ids = await self._call(self.redis.zrangebyscore(k, f"({after_seq}", "+inf", start=0, num=limit))
        return await self._records(channel, ids)

    async def recent(self, channel: str, limit: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        start, page = 0, max(limit * 4, 50)
        while len(out) < limit and start < 5000:
            ids = await self._call(self.redis.zrevrange(self.keys(channel)[DONSEQ], start, start + page - 1))
            if not ids:
                break
            out += [r for r in await self._records(channel, ids) if r["status"] == "approved" and not r["test"]]
            start += page
        return out[:limit]

    async def leaderboard(self, channel: str, limit: int) -> list[tuple[str, int]]:
        k = self.keys(channel)
        rows = await self._call(self.redis.zrevrangebyscore(k[LB], "+inf", "(0", start=0, num=limit, withscores=True))
        if not rows:
            return []
        names = await self._call(self.redis.hmget(k[LBNAME], [key for key, _ in rows]))
        return [(name or key, int(score)) for (key, score), name in zip(rows, names)]

    async def events_after(self, channel: str, seq: int) -> list[Event] | None:
        k = self.keys(channel)
        current = int(await self._call(self.redis.get(k[SEQ])) or 0)
        if seq >= current:
            return []
        rows = await self._call(self.redis.zrangebyscore(k[LOG], f"({seq}", "+inf"))
        events = [Event.from_json(r) for r in rows]
        if not events or events[0].seq != seq + 1:
            return None
        return events
