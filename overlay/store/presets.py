"""Widget presets on each backend: one small JSON document per (channel, widget, name).

Presets are written rarely (a moderator presses Save) and read when an overlay page
loads, so they live beside the channel's state, not in it: a donation's commit never
rewrites them. They are read here; they are written by the channel's writer, in the
commit that logs their ``settings`` event (``Change.presets``), so the limit on their
number is checked and the preset written in one step, whichever process writes.
"""
from __future__ import annotations

import json
import sqlite3
from typing import Any

from overlay.domain.state import Change

TABLE = ("CREATE TABLE IF NOT EXISTS widget_presets (channel TEXT NOT NULL, widget TEXT NOT NULL, "
         "name TEXT NOT NULL, settings TEXT NOT NULL, PRIMARY KEY (channel, widget, name))")


class EmbeddedPresets:
    """For ``EmbeddedStore``: the table is created on first use, so its SCHEMA stays as it is."""

    _db: sqlite3.Connection | None

    _run: Any  # EmbeddedStore's: runs a function on its SQLite thread

    def _presets_sql(self, sql: str, args: tuple[Any, ...]) -> tuple[list[tuple[Any, ...]], int]:
        assert self._db is not None
        self._db.execute(TABLE)
        cur = self._db.execute(sql, args)
        return cur.fetchall(), cur.rowcount

    async def get_preset(self, channel: str, widget: str, name: str) -> dict[str, Any] | None:
        rows, _ = await self._run(self._presets_sql, "SELECT settings FROM widget_presets "
                                  "WHERE channel = ? AND widget = ? AND name = ?", (channel, widget, name))
        return json.loads(rows[0][0]) if rows else None

    async def list_presets(self, channel: str, widget: str) -> dict[str, dict[str, Any]]:
        rows, _ = await self._run(self._presets_sql, "SELECT name, settings FROM widget_presets "
                                  "WHERE channel = ? AND widget = ? ORDER BY name", (channel, widget))
        return {name: json.loads(text) for name, text in rows}

    @staticmethod
    def _write_presets(db: sqlite3.Connection, channel: str, change: Change) -> None:
        """Inside the commit's transaction."""
        if change.presets:
            db.execute(TABLE)
        for widget, name, settings in change.presets:
            if settings is None:
                db.execute("DELETE FROM widget_presets WHERE channel = ? AND widget = ? AND name = ?",
                           (channel, widget, name))
            else:
                db.execute("INSERT OR REPLACE INTO widget_presets VALUES (?, ?, ?, ?)",
                           (channel, widget, name, json.dumps(settings)))


class RedisPresets:
    """For ``RedisStore``: one hash per channel and widget, name -> JSON."""

    redis: Any
    names: Any  # RedisStore's RedisKeys

    _call: Any  # RedisStore's: one call, bounded in time, errors as StoreUnavailable

    def _presets_key(self, channel: str, widget: str) -> str:
        return self.names.channel(channel, f"presets:{widget}")

    async def get_preset(self, channel: str, widget: str, name: str) -> dict[str, Any] | None:
        text = await self._call(self.redis.hget(self._presets_key(channel, widget), name))
        return json.loads(text) if text is not None else None

    async def list_presets(self, channel: str, widget: str) -> dict[str, dict[str, Any]]:
        found = await self._call(self.redis.hgetall(self._presets_key(channel, widget)))
        return {name: json.loads(found[name]) for name in sorted(found)}

    def _preset_writes(self, channel: str, changes: list[Change], first_key: int) -> tuple[list[str], list[Any]]:
        """The commit script's preset group: (extra KEYS, ARGV: count, then key index, name,
        JSON or "" to delete). Each widget's hash is a declared key, numbered from ``first_key``."""
        keys: list[str] = []
        args: list[Any] = [0]
        for widget, name, settings in (p for ch in changes for p in ch.presets):
            key = self._presets_key(channel, widget)
            if key not in keys:
                keys.append(key)
            args += [first_key + keys.index(key), name, "" if settings is None else json.dumps(settings)]
            args[0] += 1
        return keys, args
