"""Teams stored through the admin API, on each backend (docs/teams.md).

A record is a JSON object: a ``teams[]`` entry of config.yaml and ``created_at``,
``updated_at``, ``version``. Each write is announced to every process through the stored
channels' notifications (``Store.watch_channels``), as ``team:<id>``: a channel id never holds
a ``:``, so the registry and the team board each know which notifications are theirs, and a
process that (re)subscribes reloads both lists.
"""
from __future__ import annotations

import json
import sqlite3
from typing import Any

from overlay.store.channels import CHANNELS_PUBSUB

_TABLE = "CREATE TABLE IF NOT EXISTS teams (id TEXT PRIMARY KEY, record TEXT NOT NULL)"
TEAMS_KEY = "overlay:_teams"  # hash: id -> record ("_" is in no channel id: no channel's key looks like it)
TEAM_PREFIX = "team:"


def team_notice(team_id: str | None) -> str | None:
    """The team id a channel notification names (None: not a team's)."""
    return team_id.removeprefix(TEAM_PREFIX) if team_id is not None and team_id.startswith(TEAM_PREFIX) else None


class EmbeddedTeams:
    """For ``EmbeddedStore``: one table, created on first use."""

    _db: sqlite3.Connection | None
    _run: Any
    _channels_changed: Any

    def _teams_sql(self, sql: str, args: tuple[Any, ...]) -> tuple[list[tuple[Any, ...]], int]:
        assert self._db is not None
        self._db.execute(_TABLE)
        cur = self._db.execute(sql, args)
        return cur.fetchall(), cur.rowcount

    async def put_team(self, team_id: str, record: dict[str, Any], *, create: bool) -> bool:
        verb = "INSERT OR IGNORE" if create else "INSERT OR REPLACE"
        _, count = await self._run(self._teams_sql, f"{verb} INTO teams VALUES (?, ?)", (team_id, json.dumps(record)))
        if count:
            await self._channels_changed(TEAM_PREFIX + team_id)
        return bool(count)

    async def delete_team(self, team_id: str) -> bool:
        _, count = await self._run(self._teams_sql, "DELETE FROM teams WHERE id = ?", (team_id,))
        if count:
            await self._channels_changed(TEAM_PREFIX + team_id)
        return bool(count)

    async def get_team(self, team_id: str) -> dict[str, Any] | None:
        rows, _ = await self._run(self._teams_sql, "SELECT record FROM teams WHERE id = ?", (team_id,))
        return json.loads(rows[0][0]) if rows else None

    async def list_teams(self) -> list[dict[str, Any]]:
        rows, _ = await self._run(self._teams_sql, "SELECT record FROM teams ORDER BY id", ())
        return [json.loads(r[0]) for r in rows]


class RedisTeams:
    """For ``RedisStore``: one hash of records; each write published with the channels'."""

    redis: Any
    _call: Any

    async def _announce_team(self, team_id: str) -> None:
        await self._call(self.redis.publish(CHANNELS_PUBSUB, TEAM_PREFIX + team_id))

    async def put_team(self, team_id: str, record: dict[str, Any], *, create: bool) -> bool:
        body = json.dumps(record)
        if create:
            done = await self._call(self.redis.hsetnx(TEAMS_KEY, team_id, body))
        else:
            done = await self._call(self.redis.hset(TEAMS_KEY, team_id, body)) is not None
        if done:
            await self._announce_team(team_id)
        return bool(done)

    async def delete_team(self, team_id: str) -> bool:
        done = await self._call(self.redis.hdel(TEAMS_KEY, team_id))
        if done:
            await self._announce_team(team_id)
        return bool(done)

    async def get_team(self, team_id: str) -> dict[str, Any] | None:
        body = await self._call(self.redis.hget(TEAMS_KEY, team_id))
        return None if body is None else json.loads(body)

    async def list_teams(self) -> list[dict[str, Any]]:
        return sorted((json.loads(b) for b in await self._call(self.redis.hvals(TEAMS_KEY))), key=lambda r: r["id"])
