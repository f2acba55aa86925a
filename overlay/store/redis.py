"""The Redis backend: state, donations, idempotency keys and the event log in Redis.

A commit is one Lua script: it checks that the channel's seq is still the one the
change was computed from, writes everything, appends the events to the log and
publishes them — atomically, so the match cap holds across any number of
processes and every process sees events in seq order.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from overlay.config import ChannelSettings
from overlay.state import Change, ChannelState, Event
from overlay.store.base import HARD_LIMIT, KEEP_EVENTS, KEEP_MS, Store, StoreUnavailable, leaderboard_key

log = logging.getLogger(__name__)
PREFIX = "overlay"
EVENTS_CHANNEL = f"{PREFIX}:events"
KEY_NAMES = ("seq", "state", "don", "donseq", "ext", "lb", "lbname", "log")

COMMIT_LUA = """
local k_seq, k_state, k_don, k_donseq, k_ext, k_lb, k_lbname, k_log = unpack(KEYS)
local seq = tonumber(redis.call('GET', k_seq) or '0')
if seq ~= tonumber(ARGV[1]) then return 0 end
local new_seq, now = ARGV[2], tonumber(ARGV[4])
redis.call('SET', k_seq, new_seq)
redis.call('SET', k_state, ARGV[3])
local i = 6
for _ = 1, tonumber(ARGV[5]) do
  redis.call('HSET', k_don, ARGV[i], ARGV[i + 2])
  redis.call('ZADD', k_donseq, ARGV[i + 1], ARGV[i])
  i = i + 3
end
if ARGV[i] ~= '' then redis.call('HSET', k_ext, ARGV[i], ARGV[i + 1]) end
i = i + 2
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  redis.call('ZINCRBY', k_lb, ARGV[i + 2], ARGV[i])
  redis.call('HSETNX', k_lbname, ARGV[i], ARGV[i + 1])
  i = i + 3
end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  redis.call('ZADD', k_log, ARGV[i], ARGV[i + 1])
  i = i + 2
end
local keep, keep_ms, hard = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
local total = redis.call('ZCARD', k_log)
if total > hard then redis.call('ZREMRANGEBYRANK', k_log, 0, total - hard - 1); total = hard end
if total > keep then
  local old, drop = redis.call('ZRANGE', k_log, 0, math.min(total - keep, 100) - 1), 0
  for _, e in ipairs(old) do
    local ts = tonumber(string.match(e, '"ts":(%d+)'))
    if ts and ts < now - keep_ms then drop = drop + 1 else break end
  end
  if drop > 0 then redis.call('ZREMRANGEBYRANK', k_log, 0, drop - 1) end
end
if ARGV[i + 4] ~= '' then redis.call('PUBLISH', ARGV[i + 3], ARGV[i + 4]) end
return 1
"""


def _unavailable(exc: Exception) -> StoreUnavailable:
    return StoreUnavailable(f"Redis: {exc}")


class RedisStore(Store):
    backend = "redis"

    def __init__(self, url: str):
        super().__init__()
        self.url = url
        self.redis: aioredis.Redis = aioredis.from_url(url, decode_responses=True, socket_timeout=5,
                                                       socket_connect_timeout=2, health_check_interval=10)
        self._commit = self.redis.register_script(COMMIT_LUA)
        self._listener: asyncio.Task[None] | None = None
        self._last_seq: dict[str, int] = {}

    @staticmethod
    def keys(channel: str) -> list[str]:
        return [f"{PREFIX}:{channel}:{name}" for name in KEY_NAMES]

    async def _call(self, coro: Any) -> Any:
        try:
            return await coro
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise _unavailable(exc) from exc

    async def open(self, channels: list[ChannelSettings]) -> None:
        for cfg in channels:
            self._last_seq[cfg.id] = int(await self._call(self.redis.get(self.keys(cfg.id)[0])) or 0)
        self._listener = asyncio.create_task(self._listen(), name="redis-events")

    async def close(self) -> None:
        # Cancel until it is done: on Python 3.11 a cancellation that lands while a timeout
        # context inside redis-py or a subscriber expires can be swallowed, and the task then
        # blocks in the next pub/sub read for ever (seen as a hang at shutdown).
        while self._listener is not None and not self._listener.done():
            self._listener.cancel()
            await asyncio.wait([self._listener], timeout=0.5)
        if self._listener is not None:
            await asyncio.gather(self._listener, return_exceptions=True)
        await self.redis.aclose()

    async def load(self, cfg: ChannelSettings) -> ChannelState:
        seq, state = await self._call(self.redis.mget(self.keys(cfg.id)[:2]))
        if state is None:
            return ChannelState.initial(cfg)
        return ChannelState.from_json(int(seq), state)

    async def commit(self, channel: str, change: Change) -> bool:
        args: list[Any] = [change.base_seq, change.state.seq, change.state.to_json(), change.now, len(change.donations)]
        for d in change.donations:
            args += [d["id"], d["seq"], json.dumps(d)]
        args += [f"{change.external[0]}\0{change.external[1]}", change.external[2]] if change.external else ["", ""]
        args.append(len(change.leaderboard))
        for name, delta in change.leaderboard:
            args += [leaderboard_key(name), name, delta]
        args.append(len(change.events))
        for e in change.events:
            args += [e.seq, e.to_json()]
        message = channel + "\n[" + ",".join(e.to_json() for e in change.events) + "]" if change.events else ""
        args += [KEEP_EVENTS, KEEP_MS, HARD_LIMIT, EVENTS_CHANNEL, message]
        return bool(await self._call(self._commit(keys=self.keys(channel), args=args)))

    async def get_donation(self, channel: str, donation_id: str) -> dict[str, Any] | None:
        raw = await self._call(self.redis.hget(self.keys(channel)[2], donation_id))
        return json.loads(raw) if raw else None

    async def find_external(self, channel: str, source: str, external_id: str) -> dict[str, Any] | None:
        donation_id = await self._call(self.redis.hget(self.keys(channel)[4], f"{source}\0{external_id}"))
        return await self.get_donation(channel, donation_id) if donation_id else None

    async def _records(self, channel: str, ids: list[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        raws = await self._call(self.redis.hmget(self.keys(channel)[2], ids))
        return [json.loads(r) for r in raws if r]

    async def list_donations(self, channel: str, *, after_seq: int | None = None,
                             limit: int = 50) -> list[dict[str, Any]]:
        k = self.keys(channel)[3]
        if after_seq is None:
            ids = await self._call(self.redis.zrevrange(k, 0, limit - 1))
        else:
            ids = await self._call(self.redis.zrangebyscore(k, f"({after_seq}", "+inf", start=0, num=limit))
        return await self._records(channel, ids)

    async def recent(self, channel: str, limit: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        start, page = 0, max(limit * 4, 50)
        while len(out) < limit and start < 5000:
            ids = await self._call(self.redis.zrevrange(self.keys(channel)[3], start, start + page - 1))
            if not ids:
                break
            out += [r for r in await self._records(channel, ids) if r["status"] == "approved" and not r["test"]]
            start += page
        return out[:limit]

    async def leaderboard(self, channel: str, limit: int) -> list[tuple[str, int]]:
        k = self.keys(channel)
        rows = await self._call(self.redis.zrevrangebyscore(k[5], "+inf", "(0", start=0, num=limit, withscores=True))
        if not rows:
            return []
        names = await self._call(self.redis.hmget(k[6], [key for key, _ in rows]))
        return [(name or key, int(score)) for (key, score), name in zip(rows, names)]

    async def events_after(self, channel: str, seq: int) -> list[Event] | None:
        k = self.keys(channel)
        current = int(await self._call(self.redis.get(k[0])) or 0)
        if seq >= current:
            return []
        rows = await self._call(self.redis.zrangebyscore(k[7], f"({seq}", "+inf"))
        events = [Event.from_json(r) for r in rows]
        if not events or events[0].seq != seq + 1:
            return None
        return events

    async def ping(self) -> bool:
        return bool(await self._call(self.redis.ping()))

    async def _listen(self) -> None:
        """Relay published commits to subscribers; after a lost connection, catch up from the log."""
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(EVENTS_CHANNEL)
                await self._catch_up()
                async for msg in pubsub.listen():
                    channel, _, body = msg["data"].partition("\n")
                    await self._deliver(channel, [Event.from_json(json.dumps(e)) for e in json.loads(body)])
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except (RedisError, OSError) as exc:
                log.warning("Redis event subscription lost (%s); reconnecting", exc)
                await pubsub.aclose()
                await asyncio.sleep(0.5)

    async def _catch_up(self) -> None:
        for channel, last in list(self._last_seq.items()):
            try:
                events = await self.events_after(channel, last)
            except StoreUnavailable:
                raise RedisConnectionError("catch-up failed") from None
            if events:
                await self._deliver(channel, events)

    async def _deliver(self, channel: str, events: list[Event]) -> None:
        last = self._last_seq.get(channel, 0)
        fresh = [e for e in events if e.seq > last]
        if not fresh:
            return
        if fresh[0].seq != last + 1:
            # A message was missed (e.g. during a reconnect): read the gap from the log.
            fresh = await self.events_after(channel, last) or fresh
        self._last_seq[channel] = fresh[-1].seq
        await self._notify(channel, fresh)

    # Logged-out sessions: one key each, which Redis drops when the cookie would have expired.
    async def revoke_session(self, channel: str, session_id: str, expires_ms: int) -> None:
        ttl = expires_ms - int(time.time() * 1000)
        if ttl <= 0:  # the cookie is dead already
            return
        await self._call(self.redis.set(f"{PREFIX}:{channel}:revoked:{session_id}", "1", px=ttl))

    async def session_revoked(self, channel: str, session_id: str) -> bool:
        return bool(await self._call(self.redis.exists(f"{PREFIX}:{channel}:revoked:{session_id}")))
