"""Each webhook provider's delivery counts and last delivery, shared by every process.

Counts are kept per minute (``accepted``, ``refused``, ``failed``), so "the last hour" is the
sum of the last 60 buckets whichever process or host received the deliveries; buckets older
than ``KEEP_MINUTES`` are dropped (a Redis TTL; a bounded DELETE on SQLite). The last delivery's
time is kept without expiry: a silence of several hours is exactly what it must show. A
source the server polls records its failed polls with ``last=False``: its last delivery is
its last donation, not its last attempt.
Written outside the channel's ordered writer: nothing here changes a total.
"""
from __future__ import annotations

import sqlite3
from typing import Any

from overlay.store.deliveries import run_sql

OUTCOMES = ("accepted", "refused", "failed")
WINDOW_MINUTES = 60
KEEP_MINUTES = 90
PRUNE_BATCH = 500

_TABLES = (
    "CREATE TABLE IF NOT EXISTS webhook_health (channel TEXT NOT NULL, provider TEXT NOT NULL, "
    "minute INTEGER NOT NULL, outcome TEXT NOT NULL, count INTEGER NOT NULL, "
    "PRIMARY KEY (channel, provider, minute, outcome))",
    "CREATE TABLE IF NOT EXISTS webhook_last (channel TEXT NOT NULL, provider TEXT NOT NULL, "
    "at_ms INTEGER NOT NULL, PRIMARY KEY (channel, provider))",
)
Health = dict[str, dict[str, Any]]  # {provider: {"last_ms": int | None, "accepted": n, ...}}


def _minute(now_ms: int) -> int:
    return now_ms // 60_000


def _empty() -> dict[str, Any]:
    return {"last_ms": None, **dict.fromkeys(OUTCOMES, 0)}


class EmbeddedHealth:
    """For ``EmbeddedStore``: two tables, created on first use."""

    _db: sqlite3.Connection | None
    _run: Any

    def _health_sql(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
        return run_sql(self._db, _TABLES, statements)

    async def record_delivery(self, channel: str, provider: str, outcome: str, now_ms: int,
                              count: int = 1, last: bool = True) -> None:
        minute = _minute(now_ms)
        await self._run(self._health_sql, [
            ("DELETE FROM webhook_health WHERE rowid IN (SELECT rowid FROM webhook_health WHERE minute < ? "
             "LIMIT ?)", (minute - KEEP_MINUTES, PRUNE_BATCH)),
            ("INSERT INTO webhook_health VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel, provider, minute, outcome) "
             "DO UPDATE SET count = count + excluded.count", (channel, provider, minute, outcome, count)),
        ] + ([("INSERT INTO webhook_last VALUES (?, ?, ?) ON CONFLICT (channel, provider) "
               "DO UPDATE SET at_ms = max(at_ms, excluded.at_ms)", (channel, provider, now_ms))] if last else []))

    async def delivery_health(self, channel: str, now_ms: int) -> Health:
        since = _minute(now_ms) - WINDOW_MINUTES + 1
        counts = await self._run(self._health_sql, [(
            "SELECT provider, outcome, sum(count) FROM webhook_health WHERE channel = ? AND minute >= ? "
            "GROUP BY provider, outcome", (channel, since))])
        last = await self._run(self._health_sql, [(
            "SELECT provider, at_ms FROM webhook_last WHERE channel = ?", (channel,))])
        out: Health = {}
        for provider, outcome, count in counts:
            out.setdefault(provider, _empty())[outcome] = int(count)
        for provider, at_ms in last:
            out.setdefault(provider, _empty())["last_ms"] = int(at_ms)
        return out


class RedisHealth:
    """For ``RedisStore``: one hash per channel and minute (``provider\\0outcome`` -> count)
    expiring by itself, and one hash per channel of last delivery times."""

    redis: Any
    names: Any  # RedisStore's RedisKeys
    _call: Any

    async def record_delivery(self, channel: str, provider: str, outcome: str, now_ms: int,
                              count: int = 1, last: bool = True) -> None:
        bucket = self.names.channel(channel, f"health:{_minute(now_ms)}")
        pipe = self.redis.pipeline(transaction=False)
        pipe.hincrby(bucket, f"{provider}\0{outcome}", count)
        pipe.expire(bucket, KEEP_MINUTES * 60)
        # Several processes write it; a late writer with an older time is harmless (seconds apart).
        if last:
            pipe.hset(self.names.channel(channel, "health:last"), provider, now_ms)
        await self._call(pipe.execute())

    async def delivery_health(self, channel: str, now_ms: int) -> Health:
        minute = _minute(now_ms)
        pipe = self.redis.pipeline(transaction=False)
        for m in range(minute - WINDOW_MINUTES + 1, minute + 1):
            pipe.hgetall(self.names.channel(channel, f"health:{m}"))
        pipe.hgetall(self.names.channel(channel, "health:last"))
        *buckets, last = await self._call(pipe.execute())
        out: Health = {}
        for bucket in buckets:
            for field, count in bucket.items():
                provider, _, outcome = _text(field).partition("\0")
                entry = out.setdefault(provider, _empty())
                entry[outcome] = entry.get(outcome, 0) + int(count)
        for provider, at_ms in last.items():
            out.setdefault(_text(provider), _empty())["last_ms"] = int(at_ms)
        return out


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else value
