"""Team totals on a Redis Cluster: a second step on the team's own slot (docs/deployment.md).

A member's commit script cannot touch a team's hash: it lives in another slot. After the
commit the member's latest seq and absolute totals go to each of its teams
(``APPLY_LUA``); the team keeps, per member, the last seq and totals it applied and moves
the aggregate by the difference, only for a newer seq. Applying twice changes nothing, a
step lost (the process died between the commit and it) is made good by the member's next
commit, and a rebuild (``SET_LUA``) keeps, per member, the newer of what it read and what
was applied meanwhile. So the aggregate is exact once each member's latest commit has
reached the team: normally milliseconds after it.

The team's hash ``overlay:{team:<id>}:totals``: ``raised``, ``matched``, ``count``,
``members`` (the counted ids), ``m:<channel>`` ("seq raised matched count", the last
applied) and ``c:<channel>`` for each member that counts.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from overlay.domain.teams import TOTALS
from overlay.store.base import StoreUnavailable
from overlay.store.channels import CHANNELS_KEY
from overlay.store.redis_durable import run_scripts

log = logging.getLogger(__name__)

_LAST = """
local function last(h, member)
  local was, out = redis.call('HGET', h, 'm:' .. member), nil
  if was then
    out = {}
    for v in string.gmatch(was, '%S+') do out[#out + 1] = tonumber(v) end
  end
  return out
end
"""

# KEYS: the team's hash. ARGV: member, seq, raised, matched, count.
APPLY_LUA = _LAST + """
local h, member, seq = KEYS[1], ARGV[1], tonumber(ARGV[2])
local old = last(h, member)
if old and seq <= old[1] then return 0 end
redis.call('HSET', h, 'm:' .. member, table.concat({ARGV[2], ARGV[3], ARGV[4], ARGV[5]}, ' '))
if redis.call('HEXISTS', h, 'c:' .. member) == 1 then
  old = old or {0, 0, 0, 0}
  redis.call('HINCRBY', h, 'raised', string.format('%d', tonumber(ARGV[3]) - old[2]))
  redis.call('HINCRBY', h, 'matched', string.format('%d', tonumber(ARGV[4]) - old[3]))
  redis.call('HINCRBY', h, 'count', string.format('%d', tonumber(ARGV[5]) - old[4]))
end
return 1
"""

# KEYS: the team's hash. ARGV: the counted members as last stored (compare-and-set: 0 if they
# changed meanwhile), then per counted member: id, seq, raised, matched, count (as read).
SET_LUA = _LAST + """
local h = KEYS[1]
if (redis.call('HGET', h, 'members') or '') ~= ARGV[1] then return 0 end
for _, f in ipairs(redis.call('HKEYS', h)) do
  if string.sub(f, 1, 2) == 'c:' then redis.call('HDEL', h, f) end
end
local sum, ids = {0, 0, 0}, {}
for b = 2, #ARGV, 5 do
  local member, cur = ARGV[b], {tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]),
                                tonumber(ARGV[b + 4])}
  local old = last(h, member)
  if old and old[1] > cur[1] then cur = old end
  redis.call('HSET', h, 'm:' .. member, string.format('%d %d %d %d', cur[1], cur[2], cur[3], cur[4]),
             'c:' .. member, '1')
  for j = 1, 3 do sum[j] = sum[j] + cur[j + 1] end
  ids[#ids + 1] = member
end
redis.call('HSET', h, 'raised', string.format('%d', sum[1]), 'matched', string.format('%d', sum[2]),
           'count', string.format('%d', sum[3]), 'members', table.concat(ids, ' '))
return 1
"""


def _counts(record: str | None) -> bool:
    return record is not None and not json.loads(record).get("disabled")


class ClusterTeamTotals:
    """For ``RedisStore`` on a cluster (mixed into ``RedisTeamTotals``)."""

    redis: Any
    names: Any
    _call: Any
    _team_keys: Any

    def _cluster_scripts(self) -> tuple[Any, Any]:
        scripts = getattr(self, "_team_scripts", None)
        if scripts is None:
            scripts = self._team_scripts = (self.redis.register_script(APPLY_LUA), self.redis.register_script(SET_LUA))
        return scripts

    async def _apply_to_teams(self, channel: str, teams: list[str], seq: int, totals: dict[str, int]) -> None:
        """After a member's commit: its latest totals to each of its teams."""
        try:
            apply = self._cluster_scripts()[0]
            args = [channel, seq, *(totals[k] for k in TOTALS)]
            calls = [(apply, [self.names.team_totals(team)], args) for team in sorted(teams)]
            for outcome in await self._call(run_scripts(self.redis, calls)):
                if isinstance(outcome, Exception):
                    raise StoreUnavailable(str(outcome))
        except StoreUnavailable as exc:  # the commit stands: the member's next commit brings its teams up to date
            log.warning("team totals of %s not moved yet (%s)", channel, exc)

    async def _rebuild_on_cluster(self, team_id: str, members: list[str], config_members: set[str]) -> None:
        # the old members changed between reading them and the script (another rebuild): again
        while not await self._rebuild_once(team_id, members, config_members):
            pass

    async def _rebuild_once(self, team_id: str, members: list[str], config_members: set[str]) -> bool:
        key = self.names.team_totals(team_id)
        stored = await self._call(self.redis.hget(key, "members")) or ""
        old = stored.split()
        records = await self._call(self.redis.hmget(CHANNELS_KEY, members)) if members else []
        counted = [c for c, record in zip(members, records) if c in config_members or _counts(record)]
        # Who counts first: a commit from now on moves the team, and SET_LUA keeps the newer of the two.
        async with self.redis.pipeline(transaction=False) as pipe:
            for channel in set(old) - set(counted):
                pipe.srem(self._team_keys(channel)[1], team_id)
            for channel in counted:
                pipe.sadd(self._team_keys(channel)[1], team_id)
            for channel in counted:  # the seq before the state: a commit in between gives totals newer
                pipe.get(self._seq_key(channel))  # than the seq, and that commit's step then moves nothing
                pipe.get(self._team_keys(channel)[0])
            found = await self._call(pipe.execute())
        args: list[Any] = [stored]
        read = found[len(found) - 2 * len(counted):]
        for channel, seq, state in zip(counted, read[0::2], read[1::2]):
            totals = json.loads(state)["totals"] if state else dict.fromkeys(TOTALS, 0)
            args += [channel, int(seq or 0), *(totals[k] for k in TOTALS)]
        return bool(await self._call(self._cluster_scripts()[1](keys=[key], args=args)))

    async def _team_totals_on_cluster(self, team_id: str) -> dict[str, int] | None:
        values = await self._call(self.redis.hmget(self.names.team_totals(team_id), list(TOTALS)))
        return None if values[0] is None else {k: int(v or 0) for k, v in zip(TOTALS, values)}
