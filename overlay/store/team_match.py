"""A team match's cap, shared by every member channel (docs/teams.md "Team match").

The store keeps, per team, what each donation took from the sponsor's cap (``grants``:
donation id -> minor units) and their sum (``used``). Both move together, atomically:

- ``claim_team_match(team, donation, want, cap)`` grants ``min(want, cap - used)`` and
  records it under the donation's id. Claiming again for the same donation returns the
  grant it already holds: a channel writer that computes a batch twice (a commit conflict,
  a store reset) never takes the cap twice.
- ``release_team_match(team, donation)`` gives a donation's grant back (a refund, or a
  donation whose commit failed after its claim); releasing twice gives back once.
- ``clear_team_match(team)`` forgets a team's grants: its match was removed.

Redis: one Lua script per call on the team's two keys, so members on every process and
every server share one exact cap. Embedded: one SQLite transaction per call on the store's
single SQLite thread (one process: ``--workers`` above 1 needs Redis), on a table of grants
and a ``used`` row per team.
"""
from __future__ import annotations

import sqlite3
from typing import Any

from overlay.store.group_commit import GroupCommit
from overlay.store.redis_durable import run_scripts

TABLES = (
    "CREATE TABLE IF NOT EXISTS team_match_grants (team TEXT NOT NULL, donation TEXT NOT NULL, "
    "minor INTEGER NOT NULL, PRIMARY KEY (team, donation))",
    "CREATE TABLE IF NOT EXISTS team_match_used (team TEXT PRIMARY KEY, minor INTEGER NOT NULL)",
)

CLAIM_LUA = """
local have = redis.call('HGET', KEYS[2], ARGV[1])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if have then return {tonumber(have), used} end
local grant = math.min(tonumber(ARGV[2]), tonumber(ARGV[3]) - used)
if grant <= 0 then return {0, used} end
redis.call('HSET', KEYS[2], ARGV[1], grant)
return {grant, redis.call('INCRBY', KEYS[1], grant)}
"""

RELEASE_LUA = """
local have = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if have == 0 then return {0, used} end
redis.call('HDEL', KEYS[2], ARGV[1])
return {have, redis.call('DECRBY', KEYS[1], have)}
"""


class EmbeddedTeamMatch:
    """For ``EmbeddedStore``: a table of grants and one ``used`` row per team, created when the
    store opens, moved together in one transaction: a claim is O(1) whatever the team's grants."""

    _db: sqlite3.Connection | None
    _run: Any

    @staticmethod
    def _create_team_match_tables(db: sqlite3.Connection) -> None:
        for sql in TABLES:
            db.execute(sql)

    @staticmethod
    def _used(db: sqlite3.Connection, team_id: str) -> int:
        """Inside a transaction. A database written before the ``used`` row existed sums its grants once."""
        row = db.execute("SELECT minor FROM team_match_used WHERE team = ?", (team_id,)).fetchone()
        if row is not None:
            return row[0]
        used = db.execute("SELECT COALESCE(SUM(minor), 0) FROM team_match_grants WHERE team = ?",
                          (team_id,)).fetchone()[0]
        db.execute("INSERT INTO team_match_used VALUES (?, ?)", (team_id, used))
        return used

    def _team_match_tx(self, team_id: str, donation_id: str | None, want: int | None, cap: int) -> tuple[int, int]:
        db = self._db
        assert db is not None
        db.execute("BEGIN IMMEDIATE")
        try:
            result = self._team_match_move(db, team_id, donation_id, want, cap)
            db.execute("COMMIT")
            return result
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _team_match_move(self, db: sqlite3.Connection, team_id: str, donation_id: str | None,
                         want: int | None, cap: int) -> tuple[int, int]:
        """-> (moved, used after it): a claim (``want``), a release (no ``want``), a clear (no donation)."""
        if donation_id is None:
            db.execute("DELETE FROM team_match_grants WHERE team = ?", (team_id,))
            db.execute("DELETE FROM team_match_used WHERE team = ?", (team_id,))
            return 0, 0
        used = self._used(db, team_id)
        row = db.execute("SELECT minor FROM team_match_grants WHERE team = ? AND donation = ?",
                         (team_id, donation_id)).fetchone()
        if want is not None and row is not None:  # claimed already: the grant it holds
            return row[0], used
        if want is None:
            moved = row[0] if row is not None else 0
            if moved:
                db.execute("DELETE FROM team_match_grants WHERE team = ? AND donation = ?", (team_id, donation_id))
            moved = -moved
        else:
            moved = max(min(want, cap - used), 0)
            if moved:
                db.execute("INSERT INTO team_match_grants VALUES (?, ?, ?)", (team_id, donation_id, moved))
        if moved:
            db.execute("UPDATE team_match_used SET minor = minor + ? WHERE team = ?", (moved, team_id))
        return abs(moved), used + moved

    async def claim_team_match(self, team_id: str, donation_id: str, want: int, cap: int) -> tuple[int, int]:
        """-> (grant, used after it)."""
        return await self._run(self._team_match_tx, team_id, donation_id, want, cap)

    async def release_team_match(self, team_id: str, donation_id: str) -> tuple[int, int]:
        """-> (given back, used after it)."""
        return await self._run(self._team_match_tx, team_id, donation_id, None, 0)

    async def team_match_used(self, team_id: str) -> int:
        return (await self._run(self._team_match_tx, team_id, "", None, 0))[1]

    async def clear_team_match(self, team_id: str) -> None:
        await self._run(self._team_match_tx, team_id, None, None, 0)


class RedisTeamMatch:
    """For ``RedisStore``: a counter and a hash of grants per team, moved by Lua scripts. The
    claims and releases of every member that are ready at one moment leave in one pipeline
    (``GroupCommit``): a hundred members donating at once cost one round trip, not a hundred
    connections."""

    redis: Any
    names: Any  # RedisStore's RedisKeys
    _call: Any
    _team_group: GroupCommit[tuple[int, str, list[Any]], Any] | None = None

    def _team_calls(self) -> GroupCommit[tuple[int, str, list[Any]], Any]:
        if self._team_group is None:
            scripts = (self.redis.register_script(CLAIM_LUA), self.redis.register_script(RELEASE_LUA))

            async def many(calls: list[tuple[int, str, list[Any]]]) -> list[Any]:
                return await run_scripts(self.redis, [(scripts[which], self.names.team_match(team_id), args)
                                                      for which, team_id, args in calls])
            self._team_group = GroupCommit(lambda calls: self._call(many(calls)), "redis-team-match")
        return self._team_group

    async def _team_script(self, which: int, team_id: str, args: list[Any]) -> tuple[int, int]:
        moved, used = await self._team_calls().submit((which, team_id, args))
        return int(moved), int(used)

    async def claim_team_match(self, team_id: str, donation_id: str, want: int, cap: int) -> tuple[int, int]:
        return await self._team_script(0, team_id, [donation_id, want, cap])

    async def release_team_match(self, team_id: str, donation_id: str) -> tuple[int, int]:
        return await self._team_script(1, team_id, [donation_id])

    async def team_match_used(self, team_id: str) -> int:
        return int(await self._call(self.redis.get(self.names.team_match(team_id)[0])) or 0)

    async def clear_team_match(self, team_id: str) -> None:
        await self._call(self.redis.delete(*self.names.team_match(team_id)))
