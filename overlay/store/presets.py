"""Widget presets on each backend: one small JSON document per (channel, widget, name).

Presets are written rarely (a moderator presses Save) and read when an overlay page
loads, so they live beside the channel's state, not in it: a donation's commit never
rewrites them. The ``settings`` event that announces a change goes through the
channel's writer like any other event.
"""
from __future__ import annotations

import json
import sqlite3
from typing import Any

_TABLE = ("CREATE TABLE IF NOT EXISTS widget_presets (channel TEXT NOT NULL, widget TEXT NOT NULL, "
          "name TEXT NOT NULL, settings TEXT NOT NULL, PRIMARY KEY (channel, widget, name))")


class EmbeddedPresets:
    """For ``EmbeddedStore``: the table is created on first use, so its SCHEMA stays as it is."""

    _db: sqlite3.Connection | None

    _run: Any  # EmbeddedStore's: runs a function on its SQLite thread

    def _presets_sql(self, sql: str, args: tuple[Any, ...]) -> tuple[list[tuple[Any, ...]], int]:
        assert self._db is not None
        self._db.execute(_TABLE)
        cur = self._db.execute(sql, args)
        return cur.fetchall(), cur.rowcount

    async def put_preset(self, channel: str, widget: str, name: str, settings: dict[str, Any]) -> None:
        await self._run(self._presets_sql, "INSERT OR REPLACE INTO widget_presets VALUES (?, ?, ?, ?)",
                        (channel, widget, name, json.dumps(settings)))

    async def get_preset(self, channel: str, widget: str, name: str) -> dict[str, Any] | None:
        rows, _ = await self._run(self._presets_sql, "SELECT settings FROM widget_presets "
                                  "WHERE channel = ? AND widget = ? AND name = ?", (channel, widget, name))
        return json.loads(rows[0][0]) if rows else None

    async def list_presets(self, channel: str, widget: str) -> dict[str, dict[str, Any]]:
        rows, _ = await self._run(self._presets_sql, "SELECT name, settings FROM widget_presets "
                                  "WHERE channel = ? AND widget = ? ORDER BY name", (channel, widget))
        return {name: json.loads(text) for name, text in rows}

    async def delete_preset(self, channel: str, widget: str, name: str) -> bool:
        _, count = await self._run(self._presets_sql, "DELETE FROM widget_presets "
                                   "WHERE channel = ? AND widget = ? AND name = ?", (channel, widget, name))
        return count > 0


class RedisPresets:
    """For ``RedisStore``: one hash per channel and widget, name -> JSON."""

    redis: Any

    _call: Any  # RedisStore's: one call, bounded in time, errors as StoreUnavailable

    @staticmethod
    def _presets_key(channel: str, widget: str) -> str:
        return f"overlay:{channel}:presets:{widget}"

    async def put_preset(self, channel: str, widget: str, name: str, settings: dict[str, Any]) -> None:
        await self._call(self.redis.hset(self._presets_key(channel, widget), name, json.dumps(settings)))

    async def get_preset(self, channel: str, widget: str, name: str) -> dict[str, Any] | None:
        text = await self._call(self.redis.hget(self._presets_key(channel, widget), name))
        return json.loads(text) if text is not None else None

    async def list_presets(self, channel: str, widget: str) -> dict[str, dict[str, Any]]:
        found = await self._call(self.redis.hgetall(self._presets_key(channel, widget)))
        return {name: json.loads(found[name]) for name in sorted(found)}

    async def delete_preset(self, channel: str, widget: str, name: str) -> bool:
        return bool(await self._call(self.redis.hdel(self._presets_key(channel, widget), name)))
