"""Open overlay pages (presence): which browser sources are connected to a channel now.

Each page announces itself and beats while it stays connected (overlay.realtime.presence);
an entry lives until ``expires_ms`` unless it beats again, so a page whose process died
(or whose host lost the network) leaves the list by itself, whatever process served it.
The contract, on both backends:

- ``put_overlay_page(channel, page_id, page, expires_ms, now_ms, limit)`` -> True if the page
  is listed (new or renewed); False when the channel already lists ``limit`` other live pages.
- ``drop_overlay_page(channel, page_id)``: the page closed.
- ``overlay_pages(channel, now_ms)`` -> the live entries (the ``page`` dicts), in no order.

Errors reaching the store raise ``StoreUnavailable``.
"""
from __future__ import annotations

import json
import sqlite3
from typing import Any

_TABLE = ("CREATE TABLE IF NOT EXISTS overlay_pages (channel TEXT NOT NULL, page_id TEXT NOT NULL, "
          "page TEXT NOT NULL, expires_ms INTEGER NOT NULL, PRIMARY KEY (channel, page_id))")

# KEYS[1] the channel's hash (page_id -> "<expires_ms> <json>"); ARGV page_id, value, expires_ms,
# now_ms, limit. Expired entries are pruned on the way; 1 if the page is listed.
PUT_LUA = """
local live, mine, last = 0, false, tonumber(ARGV[3])
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local expires = tonumber(string.match(all[i + 1], '^%d+'))
  if expires <= tonumber(ARGV[4]) then
    redis.call('HDEL', KEYS[1], all[i])
  else
    if all[i] == ARGV[1] then mine = true else live = live + 1 end
    if expires > last and all[i] ~= ARGV[1] then last = expires end
  end
end
if not mine and live >= tonumber(ARGV[5]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIREAT', KEYS[1], last)
return 1
"""


class EmbeddedPages:
    """For ``EmbeddedStore``: one row per page."""

    _db: sqlite3.Connection | None
    _run: Any  # EmbeddedStore's: runs a function on its SQLite thread

    def _put_page(self, channel: str, page_id: str, page: str, expires_ms: int, now_ms: int, limit: int) -> bool:
        assert self._db is not None
        db = self._db
        db.execute(_TABLE)
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM overlay_pages WHERE channel = ? AND expires_ms <= ?", (channel, now_ms))
            (others,) = db.execute("SELECT COUNT(*) FROM overlay_pages WHERE channel = ? AND page_id != ?",
                                   (channel, page_id)).fetchone()
            (mine,) = db.execute("SELECT COUNT(*) FROM overlay_pages WHERE channel = ? AND page_id = ?",
                                 (channel, page_id)).fetchone()
            listed = bool(mine) or others < limit
            if listed:
                db.execute("INSERT INTO overlay_pages VALUES (?, ?, ?, ?) ON CONFLICT (channel, page_id) DO UPDATE "
                           "SET page = excluded.page, expires_ms = excluded.expires_ms",
                           (channel, page_id, page, expires_ms))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return listed

    def _page_sql(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        assert self._db is not None
        self._db.execute(_TABLE)
        return self._db.execute(sql, args).fetchall()

    async def put_overlay_page(self, channel: str, page_id: str, page: dict[str, Any], expires_ms: int,
                               now_ms: int, limit: int) -> bool:
        return await self._run(self._put_page, channel, page_id, json.dumps(page), expires_ms, now_ms, limit)

    async def drop_overlay_page(self, channel: str, page_id: str) -> None:
        await self._run(self._page_sql, "DELETE FROM overlay_pages WHERE channel = ? AND page_id = ?",
                        (channel, page_id))

    async def overlay_pages(self, channel: str, now_ms: int) -> list[dict[str, Any]]:
        rows = await self._run(self._page_sql, "SELECT page FROM overlay_pages WHERE channel = ? AND expires_ms > ?",
                               (channel, now_ms))
        return [json.loads(page) for (page,) in rows]


class RedisPages:
    """For ``RedisStore``: one hash per channel, each value prefixed with its expiry (Redis
    before 7.4 has no per-field expiry); the hash itself expires with its last entry."""

    redis: Any
    _call: Any  # RedisStore's: one call, bounded in time, errors as StoreUnavailable

    @staticmethod
    def _pages_key(channel: str) -> str:
        return f"overlay:pages:{channel}"

    async def put_overlay_page(self, channel: str, page_id: str, page: dict[str, Any], expires_ms: int,
                               now_ms: int, limit: int) -> bool:
        value = f"{expires_ms} {json.dumps(page)}"
        return bool(await self._call(self.redis.eval(PUT_LUA, 1, self._pages_key(channel), page_id, value,
                                                     expires_ms, now_ms, limit)))

    async def drop_overlay_page(self, channel: str, page_id: str) -> None:
        await self._call(self.redis.hdel(self._pages_key(channel), page_id))

    async def overlay_pages(self, channel: str, now_ms: int) -> list[dict[str, Any]]:
        pages = []
        for value in (await self._call(self.redis.hgetall(self._pages_key(channel)))).values():
            expires, _, page = (value.decode() if isinstance(value, bytes) else value).partition(" ")
            if int(expires) > now_ms:
                pages.append(json.loads(page))
        return pages
