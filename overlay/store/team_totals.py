"""Team totals kept as an aggregate, on each backend (docs/teams.md, "How totals are kept").

Per team the store keeps ``raised``, ``matched``, ``count`` and which members count in it;
per channel, which teams it counts in. A member's commit moves each of its teams' totals by
the difference between the member's totals before and after the batch
(``overlay.domain.teams.totals_moved``), in the commit's own transaction (SQLite) or script
(Redis): O(teams of the channel), whatever the number of members.

``rebuild_team_totals`` sets who counts and sums the members' committed totals again, in one
transaction or script, so a donation committed at the same moment lands either before it
(and is in the sum) or after it (and moves the new aggregate): never lost, never counted
twice. A member counts if it is a config channel or a stored channel that is not disabled,
as the store knows it at that moment. It is O(members): it runs when a team is created or
changed, when a member is disabled, enabled or deleted, and at start-up; never for a donation.

On a Redis Cluster a team's totals live in the team's own slot and move in a second step
after the member's commit (overlay/store/team_totals_cluster.py).
"""
from __future__ import annotations

import json
import sqlite3
from typing import Any

from overlay.domain.teams import TOTALS
from overlay.store.channels import CHANNELS_KEY
from overlay.store.team_totals_cluster import ClusterTeamTotals

TABLES = (
    "CREATE TABLE IF NOT EXISTS team_members (channel TEXT NOT NULL, team TEXT NOT NULL, "
    "PRIMARY KEY (channel, team))",
    "CREATE INDEX IF NOT EXISTS team_members_by_team ON team_members (team)",
    "CREATE TABLE IF NOT EXISTS team_totals (team TEXT PRIMARY KEY, raised INTEGER NOT NULL, "
    "matched INTEGER NOT NULL, count INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS channels (id TEXT PRIMARY KEY, record TEXT NOT NULL)",  # as overlay.store.channels
)
TEAM_TOTALS_KEY = "overlay:_team_totals"  # hash: "<team>:raised|matched|count" -> int, "<team>:members" -> ids


def _counts(record: str | None) -> bool:
    return record is not None and not json.loads(record).get("disabled")


class EmbeddedTeamTotals:
    """For ``EmbeddedStore``: two tables, created when the store opens."""

    _db: sqlite3.Connection | None
    _run: Any

    @staticmethod
    def _create_team_tables(db: sqlite3.Connection) -> None:
        for sql in TABLES:
            db.execute(sql)

    @staticmethod
    def _move_team_totals(db: sqlite3.Connection, moves: list[tuple[str, tuple[int, int, int]]]) -> None:
        """Inside the commit's transaction: each (channel, how its totals moved)."""
        db.executemany("UPDATE team_totals SET raised = raised + ?, matched = matched + ?, count = count + ? "
                       "WHERE team IN (SELECT team FROM team_members WHERE channel = ?)",
                       [(*moved, channel) for channel, moved in moves if any(moved)])

    def _rebuild(self, team_id: str, members: list[str], config_members: set[str]) -> None:
        db = self._db
        assert db is not None
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM team_members WHERE team = ?", (team_id,))
            for channel in dict.fromkeys(members):
                row = db.execute("SELECT record FROM channels WHERE id = ?", (channel,)).fetchone()
                if channel in config_members or _counts(row[0] if row else None):
                    db.execute("INSERT INTO team_members VALUES (?, ?)", (channel, team_id))
            sums = db.execute(
                "SELECT " + ", ".join(f"COALESCE(SUM(json_extract(s.state, '$.totals.{k}')), 0)" for k in TOTALS)
                + " FROM team_members m JOIN channel_state s ON s.channel = m.channel WHERE m.team = ?",
                (team_id,)).fetchone()
            db.execute("INSERT OR REPLACE INTO team_totals VALUES (?, ?, ?, ?)", (team_id, *sums))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    async def rebuild_team_totals(self, team_id: str, members: list[str], config_members: set[str]) -> None:
        await self._run(self._rebuild, team_id, members, config_members)

    def _read_totals(self, team_id: str) -> tuple[Any, ...] | None:
        assert self._db is not None
        return self._db.execute("SELECT raised, matched, count FROM team_totals WHERE team = ?",
                                (team_id,)).fetchone()

    async def team_totals(self, team_id: str) -> dict[str, int] | None:
        row = await self._run(self._read_totals, team_id)
        return None if row is None else dict(zip(TOTALS, row))


# KEYS: the totals hash, the stored channels' hash, then each old member's teams set, then
# each member's (state, teams set). ARGV: team, the old members as stored (compare-and-set:
# 0 if they changed meanwhile), old count, member count, then per member: id, 1 if a config channel.
REBUILD_LUA = """
local k_totals, k_registry = KEYS[1], KEYS[2]
local team, old, n_old, n_new = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if (redis.call('HGET', k_totals, team .. ':members') or '') ~= old then return 0 end
for j = 1, n_old do redis.call('SREM', KEYS[2 + j], team) end
local raised, matched, count, counted = 0, 0, 0, {}
for j = 1, n_new do
  local channel, configured = ARGV[3 + 2 * j], ARGV[4 + 2 * j] == '1'
  local k_state, k_teams = KEYS[1 + n_old + 2 * j], KEYS[2 + n_old + 2 * j]
  local ok = configured
  if not ok then
    local record = redis.call('HGET', k_registry, channel)
    ok = record and not cjson.decode(record).disabled
  end
  if ok then
    redis.call('SADD', k_teams, team)
    counted[#counted + 1] = channel
    local state = redis.call('GET', k_state)
    if state then
      local t = cjson.decode(state).totals
      raised, matched, count = raised + t.raised, matched + t.matched, count + t.count
    end
  end
end
redis.call('HSET', k_totals, team .. ':raised', string.format('%d', raised), team .. ':matched',
           string.format('%d', matched), team .. ':count', string.format('%d', count),
           team .. ':members', table.concat(counted, ' '))
return 1
"""

class RedisTeamTotals(ClusterTeamTotals):
    """For ``RedisStore``: one hash of every team's totals; a set per channel of its teams."""

    redis: Any
    cluster: bool
    _call: Any
    _team_keys: Any  # RedisStore's: channel -> (its state key, its teams set key)

    def _rebuild_script(self) -> Any:
        script = getattr(self, "_rebuild_team_lua", None)
        if script is None:
            script = self._rebuild_team_lua = self.redis.register_script(REBUILD_LUA)
        return script

    async def rebuild_team_totals(self, team_id: str, members: list[str], config_members: set[str]) -> None:
        members = list(dict.fromkeys(members))
        if self.cluster:
            return await self._rebuild_on_cluster(team_id, members, config_members)
        while True:  # the old members changed between reading them and the script: read them again
            old = await self._call(self.redis.hget(TEAM_TOTALS_KEY, f"{team_id}:members")) or ""
            olds = old.split()
            keys = [TEAM_TOTALS_KEY, CHANNELS_KEY, *(self._team_keys(c)[1] for c in olds)]
            args: list[Any] = [team_id, old, len(olds), len(members)]
            for channel in members:
                keys += self._team_keys(channel)
                args += [channel, 1 if channel in config_members else 0]
            if await self._call(self._rebuild_script()(keys=keys, args=args)):
                return

    async def team_totals(self, team_id: str) -> dict[str, int] | None:
        if self.cluster:
            return await self._team_totals_on_cluster(team_id)
        values = await self._call(self.redis.hmget(TEAM_TOTALS_KEY, [f"{team_id}:{k}" for k in TOTALS]))
        return None if values[0] is None else {k: int(v or 0) for k, v in zip(TOTALS, values)}
