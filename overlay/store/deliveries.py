"""What a webhook provider told us besides donations, on each backend.

- Delivery ids seen recently (Twitch EventSub resends a message under the same
  ``Twitch-Eventsub-Message-Id``): kept until ``expires_ms``, so the store stays bounded by
  the provider's replay window, whatever the traffic.
- The status of each of a provider's subscriptions (``{provider: {subscription: {...}}}``,
  e.g. a revocation), for the dashboard: one entry per subscription, so two revocations
  arriving at once never overwrite each other.

Both are small and written outside the channel's ordered writer: neither changes a total,
and a donation's own idempotency key (source, external_id) is what guarantees exactly once.
"""
from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

_TABLES = (
    "CREATE TABLE IF NOT EXISTS webhook_deliveries (channel TEXT NOT NULL, provider TEXT NOT NULL, "
    "delivery_id TEXT NOT NULL, expires_ms INTEGER NOT NULL, PRIMARY KEY (channel, provider, delivery_id))",
    "CREATE TABLE IF NOT EXISTS integration_status (channel TEXT NOT NULL, provider TEXT NOT NULL, "
    "name TEXT NOT NULL, status TEXT NOT NULL, PRIMARY KEY (channel, provider, name))",
)
PRUNE_BATCH = 500  # expired delivery ids deleted per write: the cost of one write stays bounded


def _now_ms() -> int:
    return int(time.time() * 1000)


def _nest(rows: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """(provider, name, JSON) rows -> {provider: {name: status}}, both levels sorted."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for provider, name, text in sorted(rows):
        out.setdefault(provider, {})[name] = json.loads(text)
    return out


def run_sql(db: sqlite3.Connection | None, tables: tuple[str, ...],
            statements: list[tuple[str, tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    """On the SQLite thread: create ``tables`` if needed, run ``statements``; the last one's rows."""
    assert db is not None
    for table in tables:
        db.execute(table)
    rows: list[tuple[Any, ...]] = []
    for sql, args in statements:
        rows = db.execute(sql, args).fetchall()
    return rows


class EmbeddedDeliveries:
    """For ``EmbeddedStore``: the tables are created on first use, so its SCHEMA stays as it is."""

    _db: sqlite3.Connection | None

    _run: Any  # EmbeddedStore's: runs a function on its SQLite thread

    def _deliveries_sql(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
        return run_sql(self._db, _TABLES, statements)

    async def delivery_seen(self, channel: str, provider: str, delivery_id: str) -> bool:
        rows = await self._run(self._deliveries_sql, [(
            "SELECT 1 FROM webhook_deliveries WHERE channel = ? AND provider = ? AND delivery_id = ? "
            "AND expires_ms > ?", (channel, provider, delivery_id, _now_ms()))])
        return bool(rows)

    async def remember_delivery(self, channel: str, provider: str, delivery_id: str, expires_ms: int) -> None:
        await self._run(self._deliveries_sql, [
            ("DELETE FROM webhook_deliveries WHERE rowid IN (SELECT rowid FROM webhook_deliveries "
             "WHERE expires_ms <= ? LIMIT ?)", (_now_ms(), PRUNE_BATCH)),
            ("INSERT OR REPLACE INTO webhook_deliveries VALUES (?, ?, ?, ?)",
             (channel, provider, delivery_id, expires_ms)),
        ])

    async def put_integration_status(self, channel: str, provider: str, name: str, status: dict[str, Any]) -> None:
        await self._run(self._deliveries_sql, [("INSERT OR REPLACE INTO integration_status VALUES (?, ?, ?, ?)",
                                                (channel, provider, name, json.dumps(status)))])

    async def integration_status(self, channel: str) -> dict[str, dict[str, dict[str, Any]]]:
        rows = await self._run(self._deliveries_sql, [(
            "SELECT provider, name, status FROM integration_status WHERE channel = ?", (channel,))])
        return _nest((provider, name, text) for provider, name, text in rows)


class RedisDeliveries:
    """For ``RedisStore``: one key per delivery id, expiring by itself; one hash per channel."""

    redis: Any
    names: Any  # RedisStore's RedisKeys

    _call: Any  # RedisStore's: one call, bounded in time, errors as StoreUnavailable

    def _delivery_key(self, channel: str, provider: str, delivery_id: str) -> str:
        return self.names.channel(channel, f"delivery:{provider}:{delivery_id}")

    async def delivery_seen(self, channel: str, provider: str, delivery_id: str) -> bool:
        return bool(await self._call(self.redis.exists(self._delivery_key(channel, provider, delivery_id))))

    async def remember_delivery(self, channel: str, provider: str, delivery_id: str, expires_ms: int) -> None:
        if expires_ms > _now_ms():
            await self._call(self.redis.set(self._delivery_key(channel, provider, delivery_id), "1", pxat=expires_ms))

    async def put_integration_status(self, channel: str, provider: str, name: str, status: dict[str, Any]) -> None:
        await self._call(self.redis.hset(self.names.channel(channel, "integrations"), f"{provider}\0{name}",
                                         json.dumps(status)))

    async def integration_status(self, channel: str) -> dict[str, dict[str, dict[str, Any]]]:
        found = await self._call(self.redis.hgetall(self.names.channel(channel, "integrations")))
        return _nest((*field.split("\0", 1), text) for field, text in found.items())
