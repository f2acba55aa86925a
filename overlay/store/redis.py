"""The Redis backend: state, donations, idempotency keys and the event log in Redis.

A commit is one Lua script for a whole batch: it checks that the channel's epoch is
the one this process knows (else the Redis lost its data: ``StoreReset``) and that
its seq is still the one the batch was computed from, then writes everything — the
scalars, records, leaderboard increments, alert queue operations (a list) — appends
the events to the log and publishes them, on the channel's own pub/sub channel
(overlay/store/redis_pubsub.py), with what other processes' writers need to follow
(``Applied``), atomically: the match cap holds across any number of
processes and every process sees events in seq order.

On a Redis Cluster (``redis+cluster://``) a channel's keys share one slot
(overlay/store/redis_keys.py), so the script runs on its shard and publishes with SPUBLISH;
its teams' totals move in a second step on each team's slot (overlay/store/team_totals_cluster.py).
"""
from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from overlay.config import ChannelSettings
from overlay.domain.state import Applied, Change, ChannelState, compact_json
from overlay.domain.teams import totals_moved
from overlay.store.presets import RedisPresets
from overlay.store.deliveries import RedisDeliveries
from overlay.store.health import RedisHealth
from overlay.store.leases import RedisLeases
from overlay.store.channels import RedisChannels
from overlay.store.pages import RedisPages
from overlay.store.team_match import RedisTeamMatch
from overlay.store.teams import RedisTeams
from overlay.store.team_totals import TEAM_TOTALS_KEY, RedisTeamTotals
from overlay.store.base import (HARD_LIMIT, STARTUP_WAIT_S, KEEP_EVENTS, KEEP_MS, STORE_DEADLINE_S, Absent, KeysTaken,
                                Store, StoreReset, StoreUnavailable, leaderboard_key)
from overlay.store.redis_connect import UNAVAILABLE, NodeClients, connect, is_cluster, shown
from overlay.store.group_commit import GroupCommit
from overlay.store.redis_durable import run_many_replicated, run_scripts, unavailable
from overlay.store.redis_keys import EPOCH, KEY_NAMES, QUEUE, SEQ, STATE, TEAMS, TURN, RedisKeys
from overlay.store.redis_queries import RedisQueries
from overlay.store.redis_pubsub import RedisHearing
from overlay.store.redis_scripts import (COMMIT_LUA, COMMIT_MANY_LUA, COMMIT_SHARDED_LUA, GIVE_TURN_LUA, LOAD_LUA,
                                         MIGRATE_LUA, OPEN_LUA, QUEUE_CMD, RESEED_LUA)

log = logging.getLogger(__name__)
OPEN_PAGE = 500  # config channels whose epochs one call at start-up reads (OPEN_LUA)

class RedisStore(RedisHearing, RedisQueries, RedisChannels, RedisTeams, RedisTeamTotals, RedisTeamMatch, RedisPresets,
                 RedisDeliveries, RedisHealth, RedisLeases, RedisPages, Store):
    backend = "redis"

    def __init__(self, url: str, min_replicas: int = 0):
        super().__init__()
        self.url, self.min_replicas = url, min_replicas
        self.cluster = is_cluster(url)
        self.names = RedisKeys(self.cluster)
        # One quick retry for a connection dropped while idle; no backoff: every call is
        # bounded by STORE_DEADLINE_S anyway (a stalled Redis must not hold requests for long).
        options = dict(decode_responses=True, socket_timeout=STORE_DEADLINE_S, socket_connect_timeout=STORE_DEADLINE_S,
                       health_check_interval=10, retry=Retry(NoBackoff(), 1))
        self.redis: aioredis.Redis = connect(url, **options)
        # a cluster's commits and the WAITs that confirm them: on the connection that wrote
        self.primaries = NodeClients(self.redis, url, **options) if self.cluster else self.redis
        self._commit = self.redis.register_script(COMMIT_SHARDED_LUA if self.cluster else COMMIT_LUA)
        self._reseed = self.redis.register_script(RESEED_LUA)
        self._migrate = self.redis.register_script(MIGRATE_LUA)
        self._give_turn = self.redis.register_script(GIVE_TURN_LUA)
        self._open = self.redis.register_script(OPEN_LUA)
        self._load = self.redis.register_script(LOAD_LUA)
        self._token = secrets.token_hex(8)  # this process, as the holder of a write turn
        self._turns: set[str] = set()  # channels whose write turn this process took (and may hold)
        self._listener: asyncio.Task[None] | None = None
        self._init_hearing()
        self._epochs: dict[str, str] = {}  # channel -> the epoch this process knows its data by
        self._clock_offset_ms = 0  # Redis clock minus ours
        self._commit_many = self.redis.register_script(COMMIT_MANY_LUA)
        self._group: GroupCommit[tuple[list[str], list[Any]], list[Any]] = GroupCommit(
            lambda calls: self._call(self._commit_calls(calls)), "redis")
        self._lookups: GroupCommit[tuple[str, list[str]], list[str | None]] = GroupCommit(
            lambda calls: self._call(self._hmget_many(calls)), "redis-lookup")

    def keys(self, channel: str) -> list[str]:
        return self.names.commit_keys(channel)

    def _seq_key(self, channel: str) -> str:
        return self.keys(channel)[SEQ]

    def _team_keys(self, channel: str) -> list[str]:
        k = self.keys(channel)
        return [k[STATE], k[TEAMS]]

    async def _call(self, coro: Any) -> Any:
        try:
            async with asyncio.timeout(STORE_DEADLINE_S):
                return await coro
        except TimeoutError as exc:
            raise StoreUnavailable(f"Redis did not answer within {STORE_DEADLINE_S} s") from exc
        except UNAVAILABLE as exc:
            raise unavailable(exc) from exc

    async def open(self, channels: list[ChannelSettings]) -> None:
        # At start-up a Redis that is still starting, or slow on a loaded host, is waited for
        # (every step below is idempotent); afterwards each call gets STORE_DEADLINE_S.
        deadline = time.monotonic() + STARTUP_WAIT_S
        while True:
            try:
                await self._open_once(channels)
                break
            except StoreUnavailable as exc:
                if time.monotonic() > deadline:
                    raise
                log.warning("Redis is not answering yet (%s); retrying", exc)
                await asyncio.sleep(0.5)
        self._listener = asyncio.create_task(self._listen(), name="redis-events")

    async def _open_once(self, channels: list[ChannelSettings]) -> None:
        await self._warn_if_volatile()
        secs, micros = await self._call(self.redis.time())
        self._clock_offset_ms = secs * 1000 + micros // 1000 - time.time_ns() // 1_000_000
        # The first process on an empty Redis names its data; a later loss of the key is a reset.
        # OPEN_PAGE channels a call: 10,000 config channels took 20,000 round trips one by one.
        for start in range(0, len(channels), OPEN_PAGE):
            page = [cfg.id for cfg in channels[start:start + OPEN_PAGE]]
            found = await self._open_page(page)
            for i, channel in enumerate(page):
                seq, epoch = found[2 * i], found[2 * i + 1]
                self._epochs[channel] = epoch
                self._delivered_up_to(channel, int(seq or 0))

    async def _open_page(self, page: list[str]) -> list[Any]:
        keys = [[self.keys(channel)[SEQ], self.keys(channel)[EPOCH]] for channel in page]
        if not self.cluster:
            return await self._call(self._open(keys=[k for pair in keys for k in pair],
                                               args=[secrets.token_hex(8) for _ in page]))
        # A cluster: one script per channel (its slot), all in one pipeline per shard.
        found = await self._call(run_scripts(self.redis, [(self._open, pair, [secrets.token_hex(8)]) for pair in keys]))
        for outcome in found:
            if isinstance(outcome, Exception):
                raise unavailable(outcome)
        return [value for pair in found for value in pair]

    async def _warn_if_volatile(self) -> None:
        try:
            save = (await self._call(self.redis.config_get("save"))).get("save")
            aof = (await self._call(self.redis.config_get("appendonly"))).get("appendonly")
        except (RedisError, AttributeError) as exc:  # CONFIG may be disabled or renamed on managed Redis
            log.info("cannot read the Redis persistence settings (%s)", exc)
            return
        if not save and aof != "yes":
            log.warning("Redis at %s has no persistence (save \"\", appendonly no): if it restarts, every "
                        "donation record and the event log are lost. Enable appendonly or RDB snapshots.",
                        shown(self.url))

    async def close(self) -> None:
        # Cancel until it is done: on Python 3.11 a cancellation that lands while a timeout
        # context inside redis-py or a subscriber expires can be swallowed, and the task then
        # blocks in the next pub/sub read for ever (seen as a hang at shutdown).
        while self._listener is not None and not self._listener.done():
            self._listener.cancel()
            await asyncio.wait([self._listener], timeout=0.5)
        if self._listener is not None:
            await asyncio.gather(self._listener, return_exceptions=True)
        if isinstance(self.primaries, NodeClients):
            await self.primaries.aclose()
        await self.redis.aclose()

    async def load(self, cfg: ChannelSettings) -> ChannelState:
        k = self.keys(cfg.id)
        seq, state, epoch, queue = await self._read_state(k)
        known = self._epochs.get(cfg.id)
        if epoch != known:
            raise StoreReset(f"channel {cfg.id}: epoch {known} is now {epoch}")
        if state is None:
            return ChannelState.initial(cfg)
        legacy = ChannelState.legacy_queue(state)
        if legacy:
            moved = ChannelState.from_json(int(seq), state, [])
            await self._call(self._migrate(keys=[k[STATE], k[QUEUE]],
                                           args=[state, moved.to_json(), *[json.dumps(i) for i in legacy]]))
            return await self.load(cfg)
        return ChannelState.from_json(int(seq), state, [json.loads(i) for i in queue])

    async def _read_state(self, k: list[str]) -> list[Any]:
        """Seq, scalars, epoch and alert queue, read at one moment."""
        if self.cluster:  # a cluster's pipelines have no MULTI: one script on the channel's slot
            return await self._call(self._load(keys=[k[SEQ], k[STATE], k[EPOCH], k[QUEUE]]))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.mget(k[SEQ], k[STATE], k[EPOCH])
            pipe.lrange(k[QUEUE], 0, -1)
            (seq, state, epoch), queue = await self._call(pipe.execute())
        return [seq, state, epoch, queue]

    async def commit_batch(self, channel: str, changes: list[Change], absent: Absent = ()) -> tuple[bool, int]:
        last = changes[-1]
        # Past this moment (Redis clock) the script must not write: we will have answered 503.
        valid_until = time.time_ns() // 1_000_000 + self._clock_offset_ms + int(STORE_DEADLINE_S * 1000)
        applied = Applied.of(changes)  # its scalars are the state stored, encoded once
        args: list[Any] = [self._epochs.get(channel, ""), changes[0].base_seq, last.state.seq, applied.scalars,
                           last.now, valid_until, len(absent), *(f"{s}\0{e}" for s, e in absent)]
        records = [d for ch in changes for d in ch.donations]
        args.append(len(records))
        for d in records:
            args += [d["id"], d["seq"], json.dumps(d)]
        externals = [ch.external for ch in changes if ch.external]
        args.append(len(externals))
        for source, external_id, donation_id in externals:
            args += [f"{source}\0{external_id}", donation_id]
        board = [entry for ch in changes for entry in ch.leaderboard]
        args.append(len(board))
        for name, delta in board:
            args += [leaderboard_key(name), name, delta]
        items = ["null" if item is None else compact_json(item) for _, item in applied.queue_ops]
        args.append(len(items))
        for (kind, _), item in zip(applied.queue_ops, items):
            args += [QUEUE_CMD[kind], item]
        events = [e for ch in changes for e in ch.events]
        args.append(len(events))
        for e in events:
            args += [e.seq, e.to_json()]  # the log's line; the script puts it in the message too
        preset_keys, preset_args = self._preset_writes(channel, changes, len(KEY_NAMES) + 2)
        args += preset_args
        moved = totals_moved(changes)
        # its teams' totals move in the same script; on a cluster in a second step (below)
        args += [0, 0, 0] if self.cluster else moved
        # The message's header (channel, publisher, last seq) lets the publisher skip its own
        # message without decoding it once it has delivered the events itself (below).
        header = f'{channel}\n{self._token} {last.state.seq}\n'
        turn = self._token if channel in self._turns else ""  # (the script checks the turn key only then)
        self._turns.discard(channel)
        args += [KEEP_EVENTS, KEEP_MS, HARD_LIMIT, self.names.events(channel), header, turn]
        keys = self.keys(channel)
        keys += [keys[TEAMS] if self.cluster else TEAM_TOTALS_KEY, *preset_keys]  # (team totals: unused on a cluster)
        self._committing[channel] = (last.state.seq, events)  # if its message beats the reply (redis_pubsub)
        try:
            outcome, stored, *teams = await self._group.submit((keys, args))
        finally:
            self._committing.pop(channel, None)
        if outcome == -2:
            raise StoreUnavailable("Redis ran the commit after its deadline; nothing was written")
        if outcome == -3:
            raise KeysTaken(f"channel {channel}: an idempotency key assumed absent is stored")
        if outcome == -1:
            raise StoreReset(f"channel {channel}: epoch {self._epochs.get(channel)} is gone (seq now {stored})")
        if teams and any(moved):  # (a cluster's)
            await self._apply_to_teams(channel, teams, last.state.seq, last.state.totals)
        if outcome == 1 and self._delivered.get(channel) == changes[0].base_seq:
            # Everything up to our base was delivered, so ours come next: deliver them now
            # rather than decode them again when our own message comes back.
            self._delivered[channel] = last.state.seq
            await self._notify(channel, events)
        return outcome == 1, int(stored)

    async def _commit_calls(self, calls: list[tuple[list[str], list[Any]]]) -> list[Any]:
        """The commit scripts of a group commit: on one Redis in one script call (COMMIT_MANY_LUA);
        on a cluster one per channel, each primary's in one write on one of its connections
        (``NodeClients``). One outcome per call."""
        if self.cluster or len(calls) == 1:
            return await run_many_replicated(self.primaries, self._commit, calls, self.min_replicas)
        keys: list[str] = []
        args: list[Any] = [len(calls)]
        for call_keys, call_args in calls:
            keys += call_keys
            args += [len(call_keys), len(call_args), *call_args]
        outcome, = await run_many_replicated(self.redis, self._commit_many, [(keys, args)], self.min_replicas)
        if isinstance(outcome, BaseException):
            return [outcome] * len(calls)
        if not isinstance(outcome, list) or len(outcome) != len(calls):  # every caller must get an answer
            raise StoreUnavailable(f"Redis answered {len(outcome) if isinstance(outcome, list) else outcome!r} "
                                   f"for {len(calls)} commits")
        return outcome

    async def take_turn(self, channel: str, ttl_ms: int) -> bool:
        self._turns.add(channel)  # (even if the answer is lost: the commit then checks the key)
        return bool(await self._call(self.redis.set(self.keys(channel)[TURN], self._token, nx=True, px=ttl_ms)))

    async def give_turn(self, channel: str) -> None:
        self._turns.discard(channel)
        await self._call(self._give_turn(keys=[self.keys(channel)[TURN]], args=[self._token]))

    async def reseed(self, cfg: ChannelSettings, state: ChannelState) -> None:
        k = self.keys(cfg.id)
        queue = [json.dumps(i) for i in state.alerts["queue"]]
        epoch = await self._call(self._reseed(keys=[k[SEQ], k[STATE], k[QUEUE], k[EPOCH]],
                                              args=[secrets.token_hex(8), state.seq, state.to_json(), *queue]))
        self._epochs[cfg.id] = epoch

    async def ping(self) -> bool:
        return bool(await self._call(self.redis.ping()))

    async def _catch_up(self) -> None:
        try:
            await super()._catch_up()
        except StoreUnavailable:
            raise RedisConnectionError("catch-up failed") from None

    # Logged-out sessions: one key each, which Redis drops when the cookie would have expired.
    async def revoke_session(self, channel: str, session_id: str, expires_ms: int) -> None:
        ttl = expires_ms - int(time.time() * 1000)
        if ttl <= 0:  # the cookie is dead already
            return
        await self._call(self.redis.set(self.names.channel(channel, f"revoked:{session_id}"), "1", px=ttl))

    async def session_revoked(self, channel: str, session_id: str) -> bool:
        return bool(await self._call(self.redis.exists(self.names.channel(channel, f"revoked:{session_id}"))))
