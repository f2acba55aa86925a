"""Channels stored through the admin API, on each backend (the contract is in ``base.py``).

A record is a JSON object: the channel's settings without secrets in clear (moderator tokens
hashed: ``overlay.channel_records``) and ``disabled``, ``created_at``, ``updated_at``,
``version``. Each write is announced to every process (``Store.watch_channels``): directly on
the embedded backend, on the Redis pub/sub channel ``overlay:channels`` otherwise; a process
that (re)subscribes reloads the whole list, so a missed message cannot leave it stale.
"""
from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from overlay.channel_records import page

_TABLES = ("CREATE TABLE IF NOT EXISTS channels (id TEXT PRIMARY KEY, record TEXT NOT NULL)",
           "CREATE TABLE IF NOT EXISTS invites (id TEXT PRIMARY KEY, record TEXT NOT NULL, uses INTEGER NOT NULL, "
           "used INTEGER NOT NULL DEFAULT 0, expires_ms INTEGER NOT NULL)")
CHANNELS_KEY = "overlay:registry"        # hash: id -> record (no channel's key has this shape)
CHANNELS_PUBSUB = "overlay:channels"     # a channel id per message
INVITE_AFTERLIFE_MS = 30 * 86_400_000


class EmbeddedChannels:
    """For ``EmbeddedStore``: one table, created on first use."""

    _db: sqlite3.Connection | None
    _run: Any
    _channels_changed: Any  # Store's: tells every watcher

    def _channels_sql(self, sql: str, args: tuple[Any, ...]) -> tuple[list[tuple[Any, ...]], int]:
        assert self._db is not None
        for table in _TABLES:
            self._db.execute(table)
        cur = self._db.execute(sql, args)
        return cur.fetchall(), cur.rowcount

    async def put_channel(self, channel_id: str, record: dict[str, Any], *, create: bool) -> bool:
        verb = "INSERT OR IGNORE" if create else "INSERT OR REPLACE"
        _, count = await self._run(self._channels_sql, f"{verb} INTO channels VALUES (?, ?)",
                                   (channel_id, json.dumps(record)))
        if count:
            await self._channels_changed(channel_id)
        return bool(count)

    async def delete_channel(self, channel_id: str) -> bool:
        _, count = await self._run(self._channels_sql, "DELETE FROM channels WHERE id = ?", (channel_id,))
        if count:
            await self._channels_changed(channel_id)
        return bool(count)

    async def get_channel(self, channel_id: str) -> dict[str, Any] | None:
        rows, _ = await self._run(self._channels_sql, "SELECT record FROM channels WHERE id = ?", (channel_id,))
        return json.loads(rows[0][0]) if rows else None

    async def list_channels(self, q: str, limit: int,
                            cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        # LIKE's own wildcards in q must match themselves: filtered in Python, ids in order from SQLite.
        # Without q, SQLite stops after the page (one more row says whether another page follows).
        rows, _ = await self._run(self._channels_sql, "SELECT record FROM channels WHERE id > ? ORDER BY id LIMIT ?",
                                  (cursor or "", -1 if q else limit + 1))
        return page([json.loads(r[0]) for r in rows], q, limit, None)


    async def put_invite(self, invite_id: str, record: dict[str, Any]) -> None:
        await self._run(self._channels_sql, "INSERT INTO invites (id, record, uses, expires_ms) VALUES (?, ?, ?, ?)",
                        (invite_id, json.dumps(record), record["uses"], record["expires_ms"]))

    async def get_invite(self, invite_id: str) -> dict[str, Any] | None:
        rows, _ = await self._run(self._channels_sql, "SELECT record, used FROM invites WHERE id = ?", (invite_id,))
        return {**json.loads(rows[0][0]), "used": rows[0][1]} if rows else None

    async def use_invite(self, invite_id: str, now_ms: int) -> bool:
        _, count = await self._run(self._channels_sql, "UPDATE invites SET used = used + 1 "
                                   "WHERE id = ? AND used < uses AND expires_ms > ?", (invite_id, now_ms))
        return bool(count)


class RedisChannels:
    """For ``RedisStore``: one hash of records; each write published on ``overlay:channels``."""

    redis: Any
    names: Any  # RedisStore's RedisKeys
    _call: Any

    async def put_channel(self, channel_id: str, record: dict[str, Any], *, create: bool) -> bool:
        body = json.dumps(record)
        if create:
            done = await self._call(self.redis.hsetnx(CHANNELS_KEY, channel_id, body))
        else:
            done = await self._call(self.redis.hset(CHANNELS_KEY, channel_id, body)) is not None
        if done:
            await self._call(self.redis.publish(CHANNELS_PUBSUB, channel_id))
        return bool(done)

    async def delete_channel(self, channel_id: str) -> bool:
        done = await self._call(self.redis.hdel(CHANNELS_KEY, channel_id))
        if done:
            await self._call(self.redis.publish(CHANNELS_PUBSUB, channel_id))
        return bool(done)

    async def get_channel(self, channel_id: str) -> dict[str, Any] | None:
        body = await self._call(self.redis.hget(CHANNELS_KEY, channel_id))
        return None if body is None else json.loads(body)

    async def list_channels(self, q: str, limit: int,
                            cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        # One hash read: thousands of channels are a few hundred kB, read by admins and at (re)subscribe.
        bodies = await self._call(self.redis.hvals(CHANNELS_KEY))
        return page([json.loads(b) for b in bodies], q, limit, cursor)

    # An invite: its record, and a counter of uses that expires with it.
    async def put_invite(self, invite_id: str, record: dict[str, Any]) -> None:
        # Kept a while past its expiry, so that a late visitor is told it expired (410), not that it never was.
        keep = max(record["expires_ms"], int(time.time() * 1000)) + INVITE_AFTERLIFE_MS
        await self._call(self.redis.set(self.names.invite(invite_id)[0], json.dumps(record), pxat=keep))

    async def get_invite(self, invite_id: str) -> dict[str, Any] | None:
        body, used = await self._call(self.redis.mget(self.names.invite(invite_id)))
        return None if body is None else {**json.loads(body), "used": int(used or 0)}

    async def use_invite(self, invite_id: str, now_ms: int) -> bool:
        record = await self.get_invite(invite_id)
        if record is None or record["expires_ms"] <= now_ms:
            return False
        key = self.names.invite(invite_id)[1]
        # INCR is atomic: of two processes taking the last use, one sees it over the limit.
        used = await self._call(self.redis.incr(key))
        await self._call(self.redis.pexpireat(key, record["expires_ms"] + INVITE_AFTERLIFE_MS))
        return bool(used <= record["uses"])
