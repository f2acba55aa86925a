"""Redis pub/sub for ``RedisStore``: each process hears only the channels it attends.

A commit is published on its channel's own pub/sub channel, ``overlay:<id>:events``
(named like the channel's keys). A process subscribes to it when something there starts
attending the channel (``Store.attend``: a client's feed, a writer racing other processes
or with alerts to play) and unsubscribes when the last one leaves, all on one connection,
so its cost follows the channels it serves, not the platform's. Readings (a team's totals,
``send_readings``) go the same way, one message per channel, never logged. Stored channel
and team notices stay on the one shared ``overlay:channels``: they are rare and every
process needs them.

Attending reads the channel's seq before subscribing; a commit made between that read and
the subscription shows up as a gap at the next message and is read from the log (the
store's gap repair), and whoever attends reads its state only once subscribed. After a
lost connection (a Sentinel failover) the listener subscribes again to everything
attended and delivers from the log what was committed meanwhile; so too when redis-py made
the connection again on its own (its retry), seen as ``overlay:channels`` confirmed again.

On a Redis Cluster the channels' pub/sub is sharded (SSUBSCRIBE on the shard of the
channel's slot, ``overlay:{<id>}:events``), through redis-py's cluster pub/sub, which
keeps one connection per shard and moves a channel's subscription to the promoted replica
after a failover; when the move is confirmed, what was committed meanwhile is read from the
log. ``overlay:channels`` stays classic pub/sub.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from overlay import metrics
from overlay.domain.state import Applied, Event
from overlay.store.base import STORE_DEADLINE_S, StoreUnavailable
from overlay.store.channels import CHANNELS_PUBSUB
from overlay.store.redis_connect import UNAVAILABLE
from overlay.store.redis_wire import send_many

log = logging.getLogger(__name__)
# A cluster's listener waits this long on the shards, then on the classic connection (and back).
CLUSTER_POLL_S = 0.05
READINGS_PER_CALL = 1000  # PUBLISHes per round trip: a team of 10,000 is ten


class RedisHearing:
    """Mixin of ``RedisStore``: its listener and its per-channel subscriptions."""

    redis: Any
    names: Any  # RedisStore's RedisKeys
    cluster: bool
    _token: str
    _attending: dict[str, int]
    _heard: dict[str, asyncio.Event]
    _delivered: dict[str, int]
    _followers: dict[str, Any]

    _call: Any
    _reading: Any

    def _init_hearing(self) -> None:
        self._pubsub: PubSub | None = None
        self._sent: set[str] = set()  # channels whose SUBSCRIBE went out on the current connection
        self._live: set[str] = set()  # ... and was confirmed, with no UNSUBSCRIBE sent since
        self._unconfirmed: dict[str, int] = {}  # channel -> SUBSCRIBEs sent, not confirmed yet
        self._hearing_of: dict[str, int] = {}  # channel -> generation of its confirmed subscription
        self._committing: dict[str, tuple[int, list[Event]]] = {}  # channel -> our commit in flight: last seq, events
        self._generation = 0
        self._subs_changed = asyncio.Event()
        self._listened = False  # a connection was listened on before: the next one comes back
        # A team's round sends one message to each member: the same text, decoded once.
        self._last_reading: tuple[str, dict[str, Any]] = ("", {})

    def hearing(self, channel: str) -> int | None:
        return self._hearing_of.get(channel)

    async def _start_hearing(self, channel: str) -> None:
        seq = await self._call(self.redis.get(self.keys(channel)[0]))  # type: ignore[attr-defined]
        self._delivered_up_to(channel, int(seq or 0))  # type: ignore[attr-defined]
        if channel in self._live:  # left and attended again before its UNSUBSCRIBE went out
            self._confirmed(channel)
        self._subs_changed.set()

    async def _until_heard(self, channel: str) -> None:
        try:
            async with asyncio.timeout(STORE_DEADLINE_S):
                await self.until_heard(channel)  # type: ignore[attr-defined]
        except TimeoutError as exc:
            raise StoreUnavailable(f"Redis did not confirm the subscription to {channel} in time") from exc

    def _stop_hearing(self, channel: str) -> None:
        self._hearing_of.pop(channel, None)
        self._subs_changed.set()

    def _confirmed(self, channel: str) -> None:
        if channel in self._attending and channel not in self._hearing_of:
            self._generation += 1
            self._hearing_of[channel] = self._generation
            self._now_heard(channel)  # type: ignore[attr-defined]

    def _subscribed(self, channel: str) -> None:
        """Redis confirmed a SUBSCRIBE: the channel is heard once the last one sent is."""
        left = self._unconfirmed.get(channel, 0) - 1
        if left > 0:
            self._unconfirmed[channel] = left
            return
        self._unconfirmed.pop(channel, None)
        if channel in self._sent:
            self._live.add(channel)
            self._confirmed(channel)

    async def _subscriptions(self) -> None:
        """Bring the connection's subscriptions in line with what is attended, in batches."""
        while True:
            await self._subs_changed.wait()
            self._subs_changed.clear()
            pubsub = self._pubsub
            if pubsub is None:
                continue  # the listener subscribes to everything attended when it reconnects
            want = set(self._attending)
            add, drop = want - self._sent, self._sent - want
            try:
                if drop:
                    self._sent -= drop
                    self._live -= drop
                    await self._unsubscribe(pubsub, drop)
                if add and self._pubsub is pubsub:  # (not replaced by a reconnection meanwhile)
                    self._sent |= add
                    for channel in add:
                        self._unconfirmed[channel] = self._unconfirmed.get(channel, 0) + 1
                    await self._subscribe(pubsub, add)
            except (RedisError, *UNAVAILABLE) as exc:
                log.info("subscription change not sent (%s); the listener reconnects", exc)

    async def _subscribe(self, pubsub: PubSub, channels: set[str]) -> None:
        names = [self.names.events(channel) for channel in channels]
        await (pubsub.ssubscribe(*names) if self.cluster else pubsub.subscribe(*names))

    async def _unsubscribe(self, pubsub: PubSub, channels: set[str]) -> None:
        names = [self.names.events(channel) for channel in channels]
        await (pubsub.sunsubscribe(*names) if self.cluster else pubsub.unsubscribe(*names))

    async def _messages(self, pubsub: PubSub) -> AsyncIterator[dict[str, Any]]:
        if not self.cluster:
            async for msg in pubsub.listen():
                yield msg
            return
        while True:  # two kinds of subscription, each on its own connections
            sharded = bool(pubsub.shard_channels)
            msg = await pubsub.get_message(timeout=0 if sharded else CLUSTER_POLL_S)
            if msg is not None:
                yield msg
            if sharded:
                msg = await pubsub.get_sharded_message(timeout=CLUSTER_POLL_S)
                if msg is not None:
                    yield msg

    async def _listen(self) -> None:
        """Relay published commits to subscribers; after a lost connection, catch up from the log."""
        changes = asyncio.create_task(self._subscriptions(), name="redis-subscriptions")
        try:
            while True:
                pubsub = self.redis.pubsub()
                try:
                    await self._listen_on(pubsub)
                except (RedisError, *UNAVAILABLE) as exc:
                    log.warning("Redis event subscription lost (%s); reconnecting", exc)
                    await pubsub.aclose()
                    await asyncio.sleep(0.5)
                except asyncio.CancelledError:
                    await pubsub.aclose()
                    raise
        finally:
            changes.cancel()

    async def _listen_on(self, pubsub: PubSub) -> None:
        self._pubsub, self._sent, self._live, self._unconfirmed = None, set(), set(), {}
        self._hearing_of.clear()  # anything may have been missed: attended channels get a new generation
        for heard in self._heard.values():
            heard.clear()
        attended = set(self._attending)
        self._unconfirmed = dict.fromkeys(attended, 1)
        await pubsub.subscribe(CHANNELS_PUBSUB)
        if attended:
            await self._subscribe(pubsub, attended)
        self._pubsub, self._sent = pubsub, attended
        self._subs_changed.set()  # what was attended or left meanwhile
        await self._missed(came_back=self._listened)
        self._listened = True
        notices_confirmed = False
        async for msg in self._messages(pubsub):
            kind, name = msg["type"], msg["channel"]
            if kind == "subscribe" and name == CHANNELS_PUBSUB:
                if notices_confirmed:  # again: redis-py reconnected and subscribed again by itself
                    log.info("Redis event subscription was made again; reading what was missed")
                    await self._missed(came_back=True)
                notices_confirmed = True
            elif kind in ("subscribe", "ssubscribe"):
                channel = self.names.channel_of(name)
                if channel is not None and kind == "ssubscribe" and channel in self._live:
                    await self._moved(channel)
                if channel is not None:
                    self._subscribed(channel)
            elif kind not in ("message", "smessage"):
                continue
            elif name == CHANNELS_PUBSUB:
                await self._channels_changed(msg["data"])  # type: ignore[attr-defined]
            else:
                await self._received(msg["data"])

    async def _missed(self, *, came_back: bool) -> None:
        """This connection is new, or redis-py made it again on its own (one retry) and
        subscribed again: what was published meanwhile is read from the log now, not at each
        channel's next message; stored channels and teams are read again; and if an earlier
        connection was listened on (``came_back``), readings, which are in no log, are sent
        again (``Store.on_readings_lost``). If this fails (Redis went away again), the
        connection ends and the listener's next one comes back here."""
        await self._catch_up()  # type: ignore[attr-defined]
        await self._channels_changed(None)  # type: ignore[attr-defined]
        if came_back:
            self._readings_lost()  # type: ignore[attr-defined]

    async def send_readings(self, name: str, sends: Any) -> None:
        """Each reading published on its channels' pub/sub channels, where commits are: the
        processes that hear a channel get it, the others nothing (``Store.send_readings``).
        The message: ``<channel>\n=<name>\n{"events":[],"data":<data>}``: a process of an older
        release reads the line ``=<name>`` as a publisher's and delivers no events, during a
        rolling upgrade."""
        verb = "SPUBLISH" if self.cluster else "PUBLISH"
        commands = []
        for channels, data in sends:
            body = json.dumps({"events": [], "data": data}, separators=(",", ":"), ensure_ascii=False)
            commands += [(verb, self.names.events(channel), f"{channel}\n={name}\n{body}") for channel in channels]
        for start in range(0, len(commands), READINGS_PER_CALL):
            page = commands[start:start + READINGS_PER_CALL]
            if self.cluster:  # each to its channel's shard
                async with self.redis.pipeline(transaction=False) as pipe:
                    for _, pubsub_channel, message in page:
                        pipe.spublish(pubsub_channel, message)
                    await self._call(pipe.execute())
            else:
                await self._call(send_many(self.redis, page))

    async def _moved(self, channel: str) -> None:
        """The cluster client subscribed again on another node (a failover): what was published
        meanwhile is read from the log now, not at the channel's next message."""
        last = self._delivered.get(channel)
        log.info("subscription to %s moved to another node; reading the log after seq %s", channel, last)
        try:
            events = None if last is None else await self.events_after(channel, last)  # type: ignore[attr-defined]
        except StoreUnavailable as exc:
            log.info("catch-up of %s after its subscription moved failed (%s); its next message repairs it",
                     channel, exc)
            return
        if events:
            await self._deliver(channel, events)  # type: ignore[attr-defined]

    async def _received(self, data: str) -> None:
        metrics.PUBSUB_MESSAGES.inc()
        channel, _, body = data.partition("\n")
        if body.startswith("="):  # a reading (send_readings): no seq, nothing logged
            header, _, body = body.partition("\n")
            if body != self._last_reading[0]:
                self._last_reading = (body, json.loads(body)["data"])
            self._reading(channel, header[1:], self._last_reading[1])
            return
        if not body.startswith(("{", "[")):  # a header: publisher and last seq
            header, _, body = body.partition("\n")
            publisher, _, last = header.partition(" ")
            if publisher == self._token:
                seq = int(last)
                if seq <= self._delivered.get(channel, 0):
                    return  # our own commit, delivered when it was made
                committing = self._committing.get(channel)
                if committing is not None and committing[0] == seq:
                    # Ours, its message ahead of its reply: the events are in memory, not decoded.
                    await self._deliver(channel, committing[1])  # type: ignore[attr-defined]
                    return
        message = json.loads(body)
        if isinstance(message, list):  # from a process of an older version (rolling upgrade)
            message = {"events": message}
        follower = self._followers.get(channel)
        if follower is not None and message.get("applied"):
            follower(Applied.from_dict(message["applied"]))  # before the events: a woken ticker sees it
        await self._deliver(channel, [Event.from_dict(e) for e in message["events"]])  # type: ignore[attr-defined]
