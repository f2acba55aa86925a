"""The Lua scripts of the Redis backend (overlay/store/redis.py): each runs atomically.

COMMIT_LUA writes one batch of changes. KEYS: the channel's keys (redis_keys.KEY_NAMES: its
write turn, then the set of teams it counts in), the hash of team totals
(overlay.store.team_totals), then the hashes of the widget presets the batch writes.
The last ARGV is this process's token if it took the channel's write turn, else empty: a
commit gives back a turn it held, whatever its outcome. ARGV: epoch, base seq, new seq,
scalars, now, valid until (Redis clock, ms), then counted groups: idempotency keys the
batch was computed as absent (fields of the external ids hash), records (id, seq, json),
external ids (field, donation id),
leaderboard (key, name, delta), queue operations (B|F|P|T|C, item), events (seq, json),
widget presets (the index in KEYS of the widget's hash, name, json or "" to delete);
then how the batch moves the channel's totals (raised, matched, count: added to each of its
teams' totals); then the log limits, the pub/sub channel and the message's header ("" for no
message). The message is the header, then what other processes need to follow the commit,
built here from what the script wrote ({"applied": {"base", "seq", "scalars", "queue_ops"},
"events": [...]}, as ``Applied.from_dict`` and ``Event.from_dict`` read it): the events and
state are sent to Redis once, not once for the log and again in the message. Returns {1, new seq},
{0, stored seq} (someone else committed first), {-1, stored seq} (the epoch is gone:
the Redis lost its data), {-3, stored seq} (one of the keys assumed absent is stored:
nothing written) or {-2, stored seq}: too late, the caller has answered 503
already. A Redis that was stalled (SIGSTOP, swapping) runs the scripts waiting in its
socket buffers when it resumes; without that check they would store donations whose
senders were told to retry.
"""

from overlay.domain import alerts

# The alert queue operations as the commit script takes them (one letter each).
QUEUE_CMD = {alerts.PUSH_BACK: "B", alerts.PUSH_FRONT: "F", alerts.POP_FRONT: "P", alerts.POP_BACK: "T",
             alerts.CLEAR: "C"}
_QUEUE_KINDS = "{" + ", ".join(f"{letter} = '{kind}'" for kind, letter in QUEUE_CMD.items()) + "}"

COMMIT_LUA = """
local k_seq, k_state, k_don, k_donseq, k_ext, k_lb, k_lbname, k_log, k_queue, k_epoch, k_turn, k_teams,
      k_team_totals = unpack(KEYS)
if ARGV[#ARGV] ~= '' and redis.call('GET', k_turn) == ARGV[#ARGV] then redis.call('DEL', k_turn) end
local stored = redis.call('MGET', k_seq, k_epoch)
local seq = tonumber(stored[1] or '0')
if stored[2] ~= ARGV[1] then return {-1, seq} end
if seq ~= tonumber(ARGV[2]) then return {0, seq} end
local clock = redis.call('TIME')
if tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) > tonumber(ARGV[6]) then return {-2, seq} end
local i = 8
for _ = 1, tonumber(ARGV[7]) do
  if redis.call('HEXISTS', k_ext, ARGV[i]) == 1 then return {-3, seq} end
  i = i + 1
end
local new_seq, now = ARGV[3], tonumber(ARGV[5])
redis.call('MSET', k_seq, new_seq, k_state, ARGV[4])
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  redis.call('HSET', k_don, ARGV[i], ARGV[i + 2])
  redis.call('ZADD', k_donseq, ARGV[i + 1], ARGV[i])
  i = i + 3
end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('HSET', k_ext, ARGV[i], ARGV[i + 1]); i = i + 2 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  redis.call('ZINCRBY', k_lb, ARGV[i + 2], ARGV[i])
  redis.call('HSETNX', k_lbname, ARGV[i], ARGV[i + 1])
  i = i + 3
end
n = tonumber(ARGV[i]); i = i + 1
local queue_at, queued = i, n
for _ = 1, n do
  local op = ARGV[i]
  if op == 'B' then redis.call('RPUSH', k_queue, ARGV[i + 1])
  elseif op == 'F' then redis.call('LPUSH', k_queue, ARGV[i + 1])
  elseif op == 'P' then redis.call('LPOP', k_queue)
  elseif op == 'T' then redis.call('RPOP', k_queue)
  else redis.call('DEL', k_queue) end
  i = i + 2
end
n = tonumber(ARGV[i]); i = i + 1
local events_at, logged = i, n
for _ = 1, n do
  redis.call('ZADD', k_log, ARGV[i], ARGV[i + 1])
  i = i + 2
end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local k_presets = KEYS[tonumber(ARGV[i])]
  if ARGV[i + 2] == '' then redis.call('HDEL', k_presets, ARGV[i + 1])
  else redis.call('HSET', k_presets, ARGV[i + 1], ARGV[i + 2]) end
  i = i + 3
end
if ARGV[i] ~= '0' or ARGV[i + 1] ~= '0' or ARGV[i + 2] ~= '0' then
  for _, team in ipairs(redis.call('SMEMBERS', k_teams)) do
    redis.call('HINCRBY', k_team_totals, team .. ':raised', ARGV[i])
    redis.call('HINCRBY', k_team_totals, team .. ':matched', ARGV[i + 1])
    redis.call('HINCRBY', k_team_totals, team .. ':count', ARGV[i + 2])
  end
end
i = i + 3
local keep, keep_ms, hard = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
-- Every seq is one event: a log of a channel that has not passed seq `keep` needs no trimming.
local total = tonumber(new_seq) > keep and redis.call('ZCARD', k_log) or 0
if total > hard then redis.call('ZREMRANGEBYRANK', k_log, 0, total - hard - 1); total = hard end
local function old_enough(e)
  local ts = tonumber(string.match(e, '"ts":(%d+)'))
  return ts and ts < now - keep_ms
end
-- The oldest event first: on a busy channel it is mostly young, and nothing more is read.
if total > keep and old_enough(redis.call('ZRANGE', k_log, 0, 0)[1]) then
  local old, drop = redis.call('ZRANGE', k_log, 0, math.min(total - keep, 100) - 1), 0
  for _, e in ipairs(old) do
    if old_enough(e) then drop = drop + 1 else break end
  end
  if drop > 0 then redis.call('ZREMRANGEBYRANK', k_log, 0, drop - 1) end
end
if ARGV[i + 4] ~= '' then
  local kinds, ops, bodies = """ + _QUEUE_KINDS + """, {}, {}
  for j = 0, queued - 1 do
    ops[j + 1] = '["' .. kinds[ARGV[queue_at + 2 * j]] .. '",' .. ARGV[queue_at + 2 * j + 1] .. ']'
  end
  for j = 0, logged - 1 do bodies[j + 1] = ARGV[events_at + 2 * j + 1] end
  redis.call('PUBLISH', ARGV[i + 3], ARGV[i + 4] .. '{"applied":{"base":' .. ARGV[2] .. ',"seq":' .. new_seq ..
    ',"scalars":' .. cjson.encode(ARGV[4]) .. ',"queue_ops":[' .. table.concat(ops, ',') .. ']},"events":[' ..
    table.concat(bodies, ',') .. ']}')
end
return {1, tonumber(new_seq)}
"""
# COMMIT_MANY_LUA: the commits of one group commit (many channels) in one script call, one
# Redis would otherwise run one EVALSHA each. KEYS: each commit's keys, one after another; ARGV:
# the number of commits, then per commit its number of keys, its number of args and the args.
# Each commit runs as COMMIT_LUA would; one that fails with an error gives that error in its
# place (the others are unaffected, as with one script each). Returns one reply per commit.
COMMIT_MANY_LUA = "local function commit(KEYS, ARGV)\n" + COMMIT_LUA + """end
local UNPACK_MAX = 4000
local out, k, a = {}, 0, 2
for c = 1, tonumber(ARGV[1]) do
  local nk, na = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local keys, args = {unpack(KEYS, k + 1, k + nk)}, {}
  if na <= UNPACK_MAX then args = {unpack(ARGV, a + 2, a + 1 + na)}  -- (unpack: at most a few thousand values)
  else for i = 1, na do args[i] = ARGV[a + 1 + i] end end
  local ok, reply = pcall(commit, keys, args)
  if ok then out[c] = reply
  elseif type(reply) == 'table' and reply.err then out[c] = redis.error_reply(reply.err)
  else out[c] = redis.error_reply(tostring(reply)) end
  k, a = k + nk, a + 2 + na
end
return out
"""

# On a Redis Cluster the commits go out on the channel's shard (sharded pub/sub), and a commit
# also returns the teams the channel counts in: their totals move in a second step on their slots.
COMMIT_SHARDED_LUA = COMMIT_LUA.replace("redis.call('PUBLISH',", "redis.call('SPUBLISH',").replace(
    "return {1, tonumber(new_seq)}", "return {1, tonumber(new_seq), unpack(redis.call('SMEMBERS', k_teams))}")
assert COMMIT_SHARDED_LUA.count("SPUBLISH") == 1 and COMMIT_SHARDED_LUA.count("SMEMBERS', k_teams))}") == 1

# After a reset: the first process to notice puts back its state under a new epoch; the
# others adopt that epoch, and the seq is only ever raised, so it never goes backwards.
RESEED_LUA = """
local k_seq, k_state, k_queue, k_epoch = unpack(KEYS)
local mine = tonumber(ARGV[2])
if redis.call('EXISTS', k_epoch) == 0 then
  redis.call('SET', k_seq, mine)
  redis.call('SET', k_state, ARGV[3])
  redis.call('DEL', k_queue)
  for i = 4, #ARGV do redis.call('RPUSH', k_queue, ARGV[i]) end
  redis.call('SET', k_epoch, ARGV[1])
elseif tonumber(redis.call('GET', k_seq) or '0') < mine then
  redis.call('SET', k_seq, mine)
end
return redis.call('GET', k_epoch)
"""

# A blob written before the queue moved to its own list still holds its queue: move it
# out once, unless someone changed the blob meanwhile.
MIGRATE_LUA = """
local k_state, k_queue = unpack(KEYS)
if redis.call('GET', k_state) ~= ARGV[1] then return 0 end
for i = #ARGV, 3, -1 do redis.call('LPUSH', k_queue, ARGV[i]) end
redis.call('SET', k_state, ARGV[2])
return 1
"""

# Give back a write turn we took but did not commit with (compare-and-delete).
GIVE_TURN_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


# OPEN_LUA: the config channels' epochs at start-up, many channels a call. KEYS: each channel's
# seq key then its epoch key; ARGV: a fresh epoch for each channel, set where it has none (the
# first process on an empty Redis names its data). Returns seq, epoch for each channel.
OPEN_LUA = """
local out = {}
for i = 1, #KEYS, 2 do
  redis.call('SET', KEYS[i + 1], ARGV[(i + 1) / 2], 'NX')
  out[#out + 1] = redis.call('GET', KEYS[i])
  out[#out + 1] = redis.call('GET', KEYS[i + 1])
end
return out
"""

# LOAD_LUA: a channel's seq, scalars, epoch and alert queue at one moment (on a cluster, whose
# pipelines have no MULTI). KEYS: seq, state, epoch, queue.
LOAD_LUA = """
return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]), redis.call('GET', KEYS[3]),
        redis.call('LRANGE', KEYS[4], 0, -1)}
"""
